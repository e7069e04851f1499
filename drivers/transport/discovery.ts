/**
 * Serial port discovery. `SerialPort.list()` needs udevadm on Linux and throws in
 * containers and minimal installs; we then fall back to /dev/serial/by-id (stable names
 * that include the adapter's serial number) and finally to a scan of /dev for
 * ttyUSB* / ttyACM* (and cu.usb* on macOS). The result says which method found them.
 */
import { readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPort } from 'serialport';

export interface PortInfo {
  path: string;
  /** Stable alias (/dev/serial/by-id/...) when known. */
  byId?: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
}

export type DiscoveryMethod = 'serialport' | 'by-id' | 'dev-scan';

export interface PortList {
  ports: PortInfo[];
  method: DiscoveryMethod;
  /** Why an earlier method was skipped (e.g. "udevadm not found"). */
  note?: string;
}

export interface DiscoveryDeps {
  list?: () => Promise<PortInfo[]>;
  devDir?: string;
  byIdDir?: string;
}

async function serialportList(): Promise<PortInfo[]> {
  const ports = await SerialPort.list();
  return ports.map((p) => {
    const info: PortInfo = { path: p.path };
    if (p.manufacturer) info.manufacturer = p.manufacturer;
    if (p.serialNumber) info.serialNumber = p.serialNumber;
    if (p.vendorId) info.vendorId = p.vendorId;
    if (p.productId) info.productId = p.productId;
    return info;
  });
}

const DEV_PATTERN = /^(ttyUSB\d+|ttyACM\d+|cu\.usb\S+|tty\.usb\S+)$/;

export async function listPorts(deps: DiscoveryDeps = {}): Promise<PortList> {
  const devDir = deps.devDir ?? '/dev';
  const byIdDir = deps.byIdDir ?? '/dev/serial/by-id';
  let note: string | undefined;
  try {
    const ports = await (deps.list ?? serialportList)();
    // serialport on Linux lists every ttyS* too; keep USB adapters and anything it knows a vendor for.
    const useful = ports.filter((p) => p.vendorId !== undefined || DEV_PATTERN.test(p.path.split('/').pop() ?? ''));
    return { ports: useful, method: 'serialport' };
  } catch (e) {
    note = `SerialPort.list() failed (${e instanceof Error ? e.message : String(e)}); usually udevadm is missing.`;
  }
  const byId = new Map<string, string>();
  try {
    for (const name of readdirSync(byIdDir)) {
      const link = join(byIdDir, name);
      try {
        byId.set(realpathSync(link), link);
      } catch {
        /* dangling link: adapter just unplugged */
      }
    }
  } catch {
    /* no by-id directory: no udev */
  }
  if (byId.size > 0) {
    const ports = [...byId.entries()].map(([path, link]) => ({ path, byId: link })).sort((a, b) => a.path.localeCompare(b.path));
    return { ports, method: 'by-id', note };
  }
  let names: string[] = [];
  try {
    names = readdirSync(devDir).filter((n) => DEV_PATTERN.test(n));
  } catch {
    /* unreadable /dev */
  }
  return { ports: names.sort().map((n) => ({ path: join(devDir, n) })), method: 'dev-scan', note };
}
