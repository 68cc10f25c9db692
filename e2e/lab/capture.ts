// Packet capture with Debian's tshark, run inside a lab host's namespace so it sees that host's interfaces.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { LabError } from './errors';
import type { Lab } from './lab';
import { sleep, type LabProcess } from './proc';
import { LAB_ADDRESSES, LAB_INTERFACE, type LabHost } from './topology';

/** The UDP port the end-of-capture sentinel is sent to (discard, RFC 863: nothing listens in the lab). */
export const SENTINEL_PORT = 9;

export interface CaptureOptions {
  /** Interfaces of the host to capture on (default its lab interface, eth0). */
  interfaces?: string[];
  /** A BPF capture filter, e.g. `tcp port 7106 or tcp port 8106` (default everything). */
  filter?: string;
  /** Where to write the pcapng (default under the lab's runtime directory, removed by destroy()). */
  file?: string;
  /** How long to wait for tshark to start capturing (default 15 s: it loads every dissector first). */
  startTimeoutMs?: number;
}

/** A running capture; stop() ends it and returns the file. */
export class Capture {
  private stopped: Promise<string> | null = null;

  private constructor(
    private readonly lab: Lab,
    readonly host: LabHost,
    readonly file: string,
    readonly process: LabProcess,
    private readonly interfaces: readonly string[],
  ) {}

  /**
   * Start tshark in `host` writing `opts.file` and resolve once it reports that capturing has started — only
   * then are packets sent afterwards guaranteed to be in the file (tshark takes a second or more to start on
   * a busy machine). tshark's "Running as user root … dangerous" warning is expected here (the lab is root)
   * and ignored. Rejects with LabError `process_exited` (bad interface or filter) or `timeout`.
   */
  static async start(lab: Lab, host: LabHost, opts: CaptureOptions & { file: string }): Promise<Capture> {
    const ifaces = opts.interfaces ?? [LAB_INTERFACE];
    const argv = ['tshark', '-n', '-q', ...ifaces.flatMap((i) => ['-i', i])];
    if (opts.filter) {
      // Let the end-of-capture sentinel through whatever the caller filters on (see stop()).
      argv.push('-f', `(${opts.filter}) or (udp port ${SENTINEL_PORT})`);
    }
    // pcapng keeps one file for several interfaces; -q: no per-packet summary on stdout.
    argv.push('-F', 'pcapng', '-w', opts.file);
    const p = lab.spawn(host, argv);
    // tshark 4.0 logs "Capture started." once dumpcap has opened every interface and begun capturing.
    await p.waitForOutput(/Capture started/, { stream: 'stderr', timeoutMs: opts.startTimeoutMs ?? 15_000 });
    return new Capture(lab, host, opts.file, p, ifaces);
  }

  /**
   * End the capture and return the file path. Idempotent.
   *
   * Stopping tshark at once would lose the last packets: the kernel hands captured packets to dumpcap in
   * blocks (TPACKET_V3, up to its 250 ms timeout) and dumpcap flushes the file periodically, so what was sent
   * just before stop() may not be in the file yet — and a "the marker never appears" test would then pass
   * for the wrong reason. So stop() first sends a sentinel UDP datagram (random payload, to port 9) out of
   * the captured interface, waits until those bytes are in the file — everything sent before it is then in
   * the file too — and only then sends SIGINT, as Ctrl-C would, so tshark closes the file cleanly.
   * The sentinel is the capture's last packet; the TCP readers never see it. Rejects with LabError `timeout`
   * if the sentinel never reached the file (after stopping tshark), `command_failed` if no file was written.
   */
  stop(): Promise<string> {
    this.stopped ??= (async () => {
      const drained = this.process.exitStatus ? true : await this.drain();
      await this.process.stop(5000, 'SIGINT');
      if (!existsSync(this.file)) {
        throw new LabError('command_failed', `tshark wrote no capture: ${this.process.describe()}`);
      }
      if (!drained) {
        throw new LabError(
          'timeout',
          `capture ${this.file} may be incomplete: its end sentinel never arrived`,
        );
      }
      return this.file;
    })();
    return this.stopped;
  }

  private async drain(): Promise<boolean> {
    const token = `palisade-lab-capture-end-${randomBytes(8).toString('hex')}`;
    const onLab = this.interfaces.includes(LAB_INTERFACE) || this.interfaces.includes('any');
    // Out of eth0 to another lab host (a datagram to our own address would go over lo), else over lo.
    const dest = onLab ? LAB_ADDRESSES[this.host === 'cp' ? 'lb' : 'cp'] : '127.0.0.1';
    const needle = Buffer.from(token);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      // bash's /dev/udp: one datagram, no helper program needed in the namespace.
      await this.lab.exec(this.host, [
        'bash',
        '-c',
        `printf %s "$0" > /dev/udp/${dest}/${SENTINEL_PORT}`,
        token,
      ]);
      for (let i = 0; i < 10; i++) {
        await sleep(50);
        if (existsSync(this.file) && readFileSync(this.file).includes(needle)) {
          return true;
        }
      }
    }
    return false;
  }
}
