/**
 * The episode list's filter (pure): "episodes with interventions" keeps the episodes in which the
 * operator commanded at least one frame (a takeover), the ones a DAgger-style fine-tune wants.
 * `episodeIndexList` gives their indices the way LeRobot's training takes a subset
 * (`--dataset.episodes='[0, 3]'`).
 */

export type EpisodeFilter = 'all' | 'interventions';

export interface ListedEpisode {
  index: number;
  takeovers: number;
  interventionFrames: number;
}

export function hasIntervention(e: ListedEpisode): boolean {
  return e.takeovers > 0 || e.interventionFrames > 0;
}

export function filterEpisodes<T extends ListedEpisode>(list: readonly T[], filter: EpisodeFilter): T[] {
  return filter === 'interventions' ? list.filter(hasIntervention) : [...list];
}

/** `[0, 3, 7]`: the indices shown, for LeRobot's `--dataset.episodes`. */
export function episodeIndexList(list: readonly ListedEpisode[]): string {
  return `[${list.map((e) => e.index).join(', ')}]`;
}
