import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mediaUrl } from '../../renderer/src/lib/url';

test('mediaUrl resolves relative URLs and adds the page token for the same origin only', () => {
  assert.equal(mediaUrl('/files/ds/videos/a.mp4', 'http://127.0.0.1:5199/'), 'http://127.0.0.1:5199/files/ds/videos/a.mp4');
  assert.equal(mediaUrl('/files/ds/a.mp4', 'http://10.0.0.2:80/?token=s3cr%C3%A9t'), 'http://10.0.0.2/files/ds/a.mp4?token=s3cr%C3%A9t');
  assert.equal(mediaUrl('/files/ds/a.mp4?token=given', 'http://h:1/?token=page'), 'http://h:1/files/ds/a.mp4?token=given');
  assert.equal(mediaUrl('http://elsewhere/a.mp4', 'http://h:1/?token=page'), 'http://elsewhere/a.mp4');
});
