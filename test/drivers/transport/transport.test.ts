// SerialTransport over a real pty, error mapping and port discovery fallbacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { SerialTransport } from '../../../drivers/transport/SerialTransport';
import { listPorts } from '../../../drivers/transport/discovery';
import { CanceledError, CommunicationError, DeviceNotConnectedError, PortAccessError, portOpenError } from '../../../drivers/transport/errors';
import { wireTimeMs } from '../../../drivers/transport/Transport';
import { openPtyPair, socatAvailable } from '../../fakes/servo-emulator/pty';

const SKIP = socatAvailable() ? false : 'socat is not installed';

test('portOpenError explains EACCES, EBUSY and ENOENT to the operator', () => {
  const acc = portOpenError('/dev/ttyUSB0', Object.assign(new Error('Error: Permission denied, cannot open /dev/ttyUSB0'), { code: 'EACCES' }));
  assert.equal(acc.kind, 'permission');
  assert.equal(acc.code, 'io_error');
  assert.match(acc.message, /dialout/);
  assert.match(acc.message, /udev rule/);
  const busy = portOpenError('/dev/ttyUSB0', new Error('Error Resource temporarily unavailable Cannot lock port'));
  assert.equal(busy.kind, 'busy');
  assert.match(busy.message, /another program/);
  const gone = portOpenError('/dev/ttyUSB9', new Error('Error: No such file or directory, cannot open /dev/ttyUSB9'));
  assert.equal(gone.kind, 'not_found');
  assert.equal(gone.code, 'not_found');
});

test('wire time: 8N1, 10 bits a byte', () => {
  assert.equal(wireTimeMs(88, 1_000_000), 0.88);
  assert.equal(wireTimeMs(1, 9600), 10 / 9.6);
});

test('discovery falls back to /dev/serial/by-id, then to a /dev scan, and says which', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'reins-dev-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dev = join(root, 'dev');
  const byId = join(dev, 'serial', 'by-id');
  mkdirSync(byId, { recursive: true });
  for (const n of ['ttyUSB0', 'ttyACM1', 'ttyS0', 'null']) writeFileSync(join(dev, n), '');
  const failing = async () => {
    throw new Error('spawn udevadm ENOENT');
  };
  const scan = await listPorts({ list: failing, devDir: dev, byIdDir: byId });
  assert.equal(scan.method, 'dev-scan');
  assert.deepEqual(scan.ports.map((p) => p.path), [join(dev, 'ttyACM1'), join(dev, 'ttyUSB0')]);
  assert.match(scan.note ?? '', /udevadm/);
  symlinkSync(join(dev, 'ttyUSB0'), join(byId, 'usb-1a86_USB_Single_Serial_5A7A-if00'));
  const viaId = await listPorts({ list: failing, devDir: dev, byIdDir: byId });
  assert.equal(viaId.method, 'by-id');
  assert.equal(viaId.ports[0]!.byId, join(byId, 'usb-1a86_USB_Single_Serial_5A7A-if00'));
  const ok = await listPorts({ list: async () => [{ path: '/dev/ttyS0' }, { path: '/dev/ttyACM0', vendorId: '2f5d' }] });
  assert.equal(ok.method, 'serialport');
  assert.deepEqual(ok.ports.map((p) => p.path), ['/dev/ttyACM0']);
});

test('SerialTransport: read with timeout, receive, close rejects in-flight calls, busy port', { skip: SKIP }, async (t) => {
  const pty = await openPtyPair();
  const far = new SerialPort({ path: pty.device, baudRate: 1_000_000, autoOpen: false, lock: false });
  await new Promise<void>((res, rej) => far.open((e) => (e ? rej(e) : res())));
  const tr = new SerialTransport({ path: pty.host });
  t.after(async () => {
    await tr.close();
    await new Promise<void>((res) => far.close(() => res()));
    await pty.close();
  });
  await assert.rejects(tr.read(1, 5), DeviceNotConnectedError);
  await tr.open();
  far.write(Buffer.from([1, 2, 3, 4, 5]));
  assert.deepEqual([...(await tr.read(3, 500))], [1, 2, 3]);
  assert.deepEqual([...(await tr.read(2, 500))], [4, 5]);
  await assert.rejects(tr.read(1, 3), (e: unknown) => e instanceof CommunicationError && e.kind === 'timeout' && e.retryable);
  // echo what we write from the far end
  far.on('data', (d: Buffer) => far.write(d));
  await tr.write(Uint8Array.from([9, 8, 7]));
  assert.deepEqual([...(await tr.receive((b) => (b.length >= 3 ? { value: [...b.subarray(0, 3)], consumed: 3 } : undefined), 500))], [9, 8, 7]);
  // a second program opening the same port gets a clear 'busy'
  const other = new SerialTransport({ path: pty.host });
  await assert.rejects(other.open(), (e: unknown) => e instanceof PortAccessError && e.kind === 'busy');
  // closing rejects the in-flight read
  const pending = assert.rejects(tr.read(10, 5000), CanceledError);
  await tr.close();
  await pending;
});

test('SerialTransport fd backend: discardInput() empties the kernel input buffer, never unsent output; both backends move bytes', { skip: SKIP }, async (t) => {
  const pty = await openPtyPair();
  const far = new SerialPort({ path: pty.device, baudRate: 1_000_000, autoOpen: false, lock: false });
  await new Promise<void>((res, rej) => far.open((e) => (e ? rej(e) : res())));
  const got: number[] = [];
  far.on('data', (d: Buffer) => got.push(...d));
  const tr = new SerialTransport({ path: pty.host, backend: 'fd' });
  const st = new SerialTransport({ path: pty.host, backend: 'stream', lock: false });
  t.after(async () => {
    await tr.close();
    await st.close();
    await new Promise<void>((res) => far.close(() => res()));
    await pty.close();
  });
  await tr.open();
  assert.equal(tr.backend, 'fd');
  // Bytes that reached the kernel while nobody was reading: the drain must drop them.
  far.write(Buffer.from([1, 2, 3]));
  await new Promise((r) => setTimeout(r, 50));
  await tr.write(Uint8Array.from([7, 7]));
  tr.discardInput();
  assert.equal(tr.pendingBytes(), 0);
  far.write(Buffer.from([9]));
  assert.deepEqual([...(await tr.read(1, 500))], [9], 'only bytes that arrived after the drain');
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(got, [7, 7], 'output written before the drain still went out');
  await tr.close();
  await st.open();
  far.write(Buffer.from([4, 5]));
  assert.deepEqual([...(await st.read(2, 500))], [4, 5]);
});
