/**
 * Checks on where a dataset may be opened or created, from what a client sent: the repo id is a
 * Hugging Face style `name` or `namespace/name` (no `.`/`..` segment, no other separator), and a
 * new dataset goes only into a folder that does not exist yet, is empty, or already is a dataset
 * (then LeRobotDataset.create refuses with its own message). Served files: only a dataset's videos.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ReinsError } from '../common/errors';

/** One segment: starts with a letter, digit or `_`, then letters, digits, `_`, `-`, `.`. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Why a repo id is refused, or undefined when it is fine. */
export function repoIdProblem(id: string): string | undefined {
  if (id.length === 0 || id.length > 128) return 'a repo id has 1 to 128 characters';
  const parts = id.split('/');
  if (parts.length > 2) return 'a repo id is "name" or "namespace/name" (one "/" at most)';
  for (const p of parts) {
    if (!SEGMENT.test(p) || p.includes('..')) return `"${p.slice(0, 64)}" is not a valid name: use letters, digits, "_", "-" and "." (not first, and never ".."); no "\\\\" or other separators`;
  }
  return undefined;
}

export async function checkNewDatasetFolder(folder: string): Promise<void> {
  let st;
  try {
    st = await stat(folder);
  } catch {
    return; // does not exist yet: it will be created
  }
  if (!st.isDirectory()) throw new ReinsError('bad_request', `${folder} exists and is not a folder. Choose another root or repo id.`);
  let entries: string[];
  try {
    entries = await readdir(folder);
  } catch (err) {
    throw new ReinsError('io_error', `Cannot read ${folder}: ${(err as Error).message}`);
  }
  if (entries.length === 0) return;
  const isDataset = await stat(join(folder, 'meta', 'info.json')).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!isDataset) throw new ReinsError('bad_request', `${folder} is not empty and is not a LeRobot dataset: a new dataset is only created in a new or empty folder. Choose another root or repo id.`);
}

/** The files of a dataset the host may serve for review: its videos, as LeRobot v3 lays them out. */
export function isDatasetVideo(relPath: string): boolean {
  return /^videos\/[A-Za-z0-9_][A-Za-z0-9_.-]*\/chunk-\d{3,6}\/file-\d{3,6}\.mp4$/.test(relPath) && !relPath.includes('..');
}
