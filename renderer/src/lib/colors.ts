/** Per-joint colours (plot lines and readout swatches), distinguishable on the dark theme. */
export const JOINT_COLORS = ['#4ea1ff', '#f0a030', '#3fb950', '#e05cc8', '#46d1d1', '#e8e05a', '#ff7b72', '#a98bff'] as const;
