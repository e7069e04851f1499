/** Command-line flags of the benchmarks: `--name value` options and bare `--name` switches. */
export interface BenchArgs {
  /** The value after `--name`, or `def` when the flag is absent. */
  arg(name: string, def: string): string;
  /** Whether the bare switch `--name` was given. */
  flag(name: string): boolean;
}

export function benchArgs(argv: readonly string[] = process.argv.slice(2)): BenchArgs {
  return {
    arg: (name, def) => {
      const i = argv.indexOf(`--${name}`);
      return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
    },
    flag: (name) => argv.includes(`--${name}`),
  };
}
