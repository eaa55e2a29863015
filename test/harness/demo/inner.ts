// What `npm run demo` runs inside User-Mode Linux: the real daemon on a real IPVS kernel.
// A node namespace, four pod namespaces with echo servers (three in the Service at first)
// and a client; `kube-ipvs run` in the node namespace on a copy of examples/ in /run; then
// traffic, a config edit (rr → sh) and an EndpointSlice edit (3 → 4 endpoints), each
// shown reaching the kernel (`ipvsadm -Sn`, polled) and the client. /run is a tmpfs inside
// UML, where inotify works; the host filesystem UML boots from reports no changes.
import type { ChildProcess } from 'node:child_process';
import { cpSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { runClient } from '../client.js';
import { startEcho, stopAllEcho } from '../echo.js';
import { inUml } from '../in-uml.js';
import { deleteAllNetns } from '../netns.js';
import { buildLab, type Lab, type LabBackend } from '../topology.js';
import { DAEMON, formatAnswers, stamp } from './report.js';

/** The lvsadm listing the demo shows: numeric, with each virtual service's owning Service. */
export const LVSADM_LISTING: readonly string[] = ['-Ln', '--k8s'];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const examples = join(root, 'examples');
const kubeIpvsBin = join(root, 'bin/kube-ipvs.js');
const lvsadmBin = join(root, 'bin/lvsadm.js');
const work = '/run/kube-ipvs-demo';
const manifests = join(work, 'manifests');
const configFile = join(work, 'config.yaml');
const sliceFile = join(manifests, 'endpointslice.yaml');
const nodeName = 'node-1';
const requests = 30;
/** How long the kernel may take to show an edit before the demo gives up. */
const editWaitMs = 20_000;
/** The same from the daemon's start: Node.js loading it inside UML is most of it. */
const startWaitMs = 45_000;

class DemoFailure extends Error {}

const t0 = Number(process.env.KUBE_IPVS_DEMO_T0) || Date.now();

function say(text: string): void {
  process.stdout.write(`${stamp(t0)}${text}\n`);
}

function show(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

// --- the example files -------------------------------------------------------------

function readYaml(file: string): Document {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  if (doc.errors.length > 0) throw new DemoFailure(`${file}: ${doc.errors[0]?.message}`);
  return doc;
}

/** Replaces `file` in one rename, as an editor or a ConfigMap update does. */
function writeAtomically(file: string, text: string): void {
  const temp = join(dirname(file), `.${basename(file)}.tmp`);
  writeFileSync(temp, text);
  renameSync(temp, file);
}

interface ServiceFacts {
  vip: string;
  port: number;
  targetPort: number;
}

function serviceFacts(): ServiceFacts {
  const doc = readYaml(join(manifests, 'service.yaml'));
  const vip = doc.getIn(['spec', 'clusterIP']);
  const port = doc.getIn(['spec', 'ports', 0, 'port']);
  const targetPort = doc.getIn(['spec', 'ports', 0, 'targetPort']);
  if (typeof vip !== 'string' || typeof port !== 'number' || typeof targetPort !== 'number') {
    throw new DemoFailure(
      'examples/manifests/service.yaml: expected spec.clusterIP and a numeric port and targetPort',
    );
  }
  return { vip, port, targetPort };
}

function sliceAddresses(): string[] {
  const endpoints = readYaml(sliceFile).getIn(['endpoints']);
  if (!isSeq(endpoints)) throw new DemoFailure(`${sliceFile}: no endpoints list`);
  return endpoints.items.flatMap((e) => {
    const a = isMap(e) ? e.getIn(['addresses', 0]) : undefined;
    return typeof a === 'string' ? [a] : [];
  });
}

function addEndpoint(address: string): void {
  const doc = readYaml(sliceFile);
  doc.addIn(['endpoints'], doc.createNode({ addresses: [address] }));
  writeAtomically(sliceFile, doc.toString());
}

function setServiceScheduler(scheduler: string): string {
  const doc = readYaml(configFile);
  const before = doc.getIn(['services', 0, 'scheduler']);
  doc.setIn(['services', 0, 'scheduler'], scheduler);
  writeAtomically(configFile, doc.toString());
  return String(before);
}

// --- the kernel, read independently of kube-ipvs -----------------------------------

interface VirtualServer {
  scheduler: string;
  /** "address:port weight", sorted. */
  reals: string[];
}

async function virtualServer(lab: Lab, key: string): Promise<VirtualServer | undefined> {
  const save = (await lab.node.exec('ipvsadm', ['-Sn'])).stdout;
  let found: VirtualServer | undefined;
  for (const line of save.split('\n')) {
    const w = line.split(' ');
    if (w[0] === '-A' && w[2] === key)
      found = { scheduler: w[w.indexOf('-s') + 1] ?? '', reals: [] };
    if (w[0] === '-a' && w[2] === key && found) {
      found.reals.push(`${w[w.indexOf('-r') + 1]} weight ${w[w.indexOf('-w') + 1]}`);
    }
  }
  found?.reals.sort();
  return found;
}

function describeVs(key: string, vs: VirtualServer | undefined): string {
  return vs ? `TCP ${key} ${vs.scheduler} -> ${vs.reals.join(', ') || 'no real servers'}` : 'none';
}

/** Polls the kernel until `want` holds for the virtual server `key`; bounded. */
async function waitForKernel(
  lab: Lab,
  key: string,
  what: string,
  want: (vs: VirtualServer) => boolean,
  daemon: DaemonProcess,
  after = 'the edit',
  limitMs = editWaitMs,
): Promise<void> {
  const started = Date.now();
  let vs: VirtualServer | undefined;
  while (Date.now() - started < limitMs) {
    daemon.assertRunning();
    vs = await virtualServer(lab, key);
    if (vs && want(vs)) {
      say(`kernel: ${describeVs(key, vs)} (${Date.now() - started} ms after ${after})`);
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new DemoFailure(
    `the kernel did not show ${what} within ${limitMs / 1000} s; it shows: ${describeVs(key, vs)}`,
  );
}

async function showTable(lab: Lab): Promise<void> {
  say(`$ lvsadm ${LVSADM_LISTING.join(' ')}`);
  show((await lab.node.exec(process.execPath, [lvsadmBin, ...LVSADM_LISTING])).stdout);
}

async function traffic(lab: Lab, facts: ServiceFacts): Promise<void> {
  say(
    `${requests} TCP connections from the client ${lab.clientAddress} to ${facts.vip}:${facts.port}`,
  );
  const r = await runClient(lab.client, {
    proto: 'tcp',
    target: facts.vip,
    port: facts.port,
    count: requests,
  });
  say(formatAnswers(r));
  if (r.answered !== r.attempted) {
    throw new DemoFailure(`${r.failed} connections failed: ${JSON.stringify(r.errors)}`);
  }
}

// --- the daemon --------------------------------------------------------------------

class DaemonProcess {
  private exit: Promise<number | null>;
  private exited: string | undefined;

  constructor(private readonly child: ChildProcess) {
    let partial = '';
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      partial += s;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        // Text log lines start with an ISO time; the demo's own stamp replaces it.
        say(`${DAEMON}${line.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, '')}`);
      }
    });
    this.exit = new Promise((r) => {
      child.once('exit', (code, signal) => {
        this.exited = signal ? `killed by ${signal}` : `exit ${code}`;
        r(code);
      });
      child.once('error', (err) => {
        this.exited = `could not start: ${err.message}`;
        r(null);
      });
    });
  }

  assertRunning(): void {
    if (this.exited) {
      throw new DemoFailure(`kube-ipvs run stopped (${this.exited}); its log is above`);
    }
  }

  /** SIGTERM, then the exit code (bounded: SIGKILL after 10 s, reported as a failure). */
  async stop(): Promise<number | null> {
    if (this.exited) return this.exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    const code = await this.exit;
    clearTimeout(timer);
    return code;
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

function startDaemon(lab: Lab): DaemonProcess {
  const args = ['run', '--manifests', manifests, '--config', configFile];
  args.push('--node-name', nodeName, '--log-format', 'text');
  say(`$ kube-ipvs ${args.join(' ')}    (in the node namespace)`);
  const child = lab.node.spawn(process.execPath, [kubeIpvsBin, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new DaemonProcess(child);
}

// --- the story ---------------------------------------------------------------------

function names(backends: readonly LabBackend[]): string {
  return backends.map((b) => `${b.name} ${b.address}`).join(', ');
}

async function demo(): Promise<void> {
  say(`inside User-Mode Linux, kernel ${release()}`);
  rmSync(work, { recursive: true, force: true });
  cpSync(examples, work, { recursive: true });
  say(`copied examples/ to ${work} (a tmpfs: the daemon watches it with inotify)`);
  const facts = serviceFacts();
  const lab = await buildLab({ backends: 4 });
  let daemon: DaemonProcess | undefined;
  try {
    const serving = lab.backends.slice(0, 3);
    const spare = lab.backends[3] as LabBackend;
    const listed = sliceAddresses();
    const wanted = serving.map((b) => b.address);
    if (listed.join(',') !== wanted.join(',')) {
      throw new DemoFailure(
        `${sliceFile} lists ${listed.join(', ')}; the demo's pods are ${wanted.join(', ')}`,
      );
    }
    say(
      `namespaces: node ${nodeName} (${lab.nodeAddress}, forwarding), client ${lab.clientAddress}, ` +
        `pods ${names(lab.backends)}`,
    );
    await Promise.all(
      serving.map((b) => startEcho(b.ns, { name: b.name, tcpPort: facts.targetPort })),
    );
    say(
      `pods ${serving.map((b) => b.name).join(', ')} answer on :${facts.targetPort} with their name`,
    );

    const key = `${facts.vip}:${facts.port}`;
    const real = (b: LabBackend): string => `${b.address}:${facts.targetPort} weight 1`;
    const reals = (bs: readonly LabBackend[]): string => bs.map(real).sort().join(',');
    daemon = startDaemon(lab);
    await waitForKernel(
      lab,
      key,
      `${key} with rr and three real servers`,
      (vs) => vs.scheduler === 'rr' && vs.reals.join(',') === reals(serving),
      daemon,
      'kube-ipvs started',
      startWaitMs,
    );
    await showTable(lab);
    await traffic(lab, facts);

    const old = setServiceScheduler('sh');
    say(`edit ${configFile}: services[0] (default/web) scheduler ${old} -> sh (source hashing)`);
    await waitForKernel(lab, key, `${key} with sh`, (vs) => vs.scheduler === 'sh', daemon);
    await showTable(lab);
    await traffic(lab, facts);

    await startEcho(spare.ns, { name: spare.name, tcpPort: facts.targetPort });
    say(`pod ${spare.name} starts; edit ${sliceFile}: add the endpoint ${spare.address}`);
    addEndpoint(spare.address);
    await waitForKernel(
      lab,
      key,
      `${key} with four real servers`,
      (vs) => vs.reals.join(',') === reals(lab.backends),
      daemon,
    );
    await showTable(lab);
    say('sh spreads its hash buckets over all four now: the client may land on another pod');
    await traffic(lab, facts);

    const before = (await lab.node.exec('ipvsadm', ['-Sn'])).stdout;
    say('stopping kube-ipvs (SIGTERM)');
    const code = await daemon.stop();
    if (code !== 0) throw new DemoFailure(`kube-ipvs run exited ${code} on SIGTERM`);
    const after = (await lab.node.exec('ipvsadm', ['-Sn'])).stdout;
    if (after !== before) throw new DemoFailure('the kernel table changed when kube-ipvs stopped');
    say('kube-ipvs exited 0; the kernel table stays as it was (a restart adopts it)');
  } finally {
    daemon?.kill();
    await stopAllEcho();
    await deleteAllNetns();
    rmSync(work, { recursive: true, force: true });
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

if (!inUml()) {
  process.stderr.write('demo: this runs inside User-Mode Linux; start it with npm run demo\n');
  process.exit(1);
}
function fail(err: unknown): void {
  process.stderr.write(`demo: failed: ${message(err)}\n`);
  process.exitCode = 1;
}
// An error no step awaits (a child process that cannot be spawned) ends the demo the same
// way, as a message; UML's halt takes what is left with it.
process.on('uncaughtException', (err) => {
  fail(err);
  process.exit(1);
});
demo().catch(fail);
