/**
 * Issue 12, finding 12: the token was only accepted on the command line (visible in `ps`, echoed
 * by npm). It now also comes from a file (--token-file, $REINS_TOKEN_FILE) or $REINS_TOKEN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStartArgs, resolveToken } from '../../../main/host/args';

const files: Record<string, string> = { '/run/reins/token': 'file-secret-123\n', '/run/reins/short': 'abc\n', '/run/reins/spaced': 'two words here\n' };
const read = (p: string): string => {
  const v = files[p];
  if (v === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
  return v;
};

test('the token comes from --token, --token-file, $REINS_TOKEN_FILE or $REINS_TOKEN, in that order', () => {
  assert.equal(resolveToken(parseStartArgs([]), {}, read), undefined);
  assert.equal(resolveToken(parseStartArgs(['--token', 'cli-secret-1']), { REINS_TOKEN: 'env-secret-1' }, read), 'cli-secret-1');
  assert.equal(resolveToken(parseStartArgs(['--token-file', '/run/reins/token']), { REINS_TOKEN: 'env-secret-1' }, read), 'file-secret-123');
  assert.equal(resolveToken(parseStartArgs([]), { REINS_TOKEN_FILE: '/run/reins/token', REINS_TOKEN: 'env-secret-1' }, read), 'file-secret-123');
  assert.equal(resolveToken(parseStartArgs([]), { REINS_TOKEN: 'env-secret-1' }, read), 'env-secret-1');
  assert.equal(resolveToken(parseStartArgs([]), { REINS_TOKEN: '' }, read), undefined);
});

test('a token that is short, spaced or unreadable is refused with a message saying where it came from', () => {
  assert.throws(() => resolveToken(parseStartArgs(['--token-file', '/run/reins/missing']), {}, read), /Cannot read the token file \/run\/reins\/missing/);
  assert.throws(() => resolveToken(parseStartArgs(['--token-file', '/run/reins/short']), {}, read), /--token-file \/run\/reins\/short\) must be at least 8/);
  assert.throws(() => resolveToken(parseStartArgs(['--token-file', '/run/reins/spaced']), {}, read), /must not contain spaces/);
  assert.throws(() => resolveToken(parseStartArgs([]), { REINS_TOKEN: 'short' }, read), /REINS_TOKEN\) must be at least 8/);
  assert.throws(() => parseStartArgs(['--token', 'cli-secret-1', '--token-file', '/x']), /either --token or --token-file/);
  assert.deepEqual(parseStartArgs(['--allow-host', 'reins.lab', '--allow-host', '[fe80::1]']).allowHosts, ['reins.lab', '[fe80::1]']);
  assert.throws(() => parseStartArgs(['--allow-host', 'http://evil']), /--allow-host takes a host name/);
});
