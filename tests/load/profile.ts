// Where a V8 CPU profile (node --cpu-prof) spends its time: functions and modules by self time.
//   tsx tests/load/profile.ts reports/profile/CPU.….cpuprofile
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ROOT } from './processes.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds on the monotonic clock, as process.hrtime reads it. */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
  /** Share of the busy (not idle) time. */
  percent: number;
}

const shortUrl = (url: string) =>
  url.replace(pathToFileURL(ROOT).href, '').replace(/^.*node_modules\//, '') || '(native)';

/** The package (or node internal, or our own file) a frame belongs to. */
const moduleOf = (url: string) => {
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (inPackage) return inPackage;
  if (url.startsWith('node:') || (!url.includes('/') && url)) return 'node (internals)';
  return shortUrl(url);
};

function rank(totals: Map<string, number>, busy: number, top: number): SelfTime[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, ms: us / 1000, percent: (100 * us) / busy }));
}

export interface ProfileSummary {
  busyMs: number;
  /** Whether only the samples inside the window were counted (false: the whole profile). */
  windowed: boolean;
  functions: SelfTime[];
  modules: SelfTime[];
}

/** Self time by function and by module; only of the samples between `window.from` and `window.to` (microseconds
 * of the monotonic clock, process.hrtime's) when given and the profile has samples there. */
export function summarizeProfile(file: string, top = 15, window?: { from: number; to: number }): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const times: number[] = [];
  profile.timeDeltas.reduce((time, delta, i) => (times[i] = time + delta), profile.startTime);
  const inWindow = (i: number) => !window || (times[i]! >= window.from && times[i]! <= window.to);
  const windowed = Boolean(window) && profile.samples.some((_, i) => inWindow(i));
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((nodeId, i) => {
    if (windowed && !inWindow(i)) return;
    const frame = frames.get(nodeId)!;
    const us = profile.timeDeltas[i] ?? 0;
    if (frame.functionName === '(idle)') return;
    busy += us;
    const where = frame.url ? ` ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
    const name = `${frame.functionName || '(anonymous)'}${where}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const module = frame.url ? moduleOf(frame.url) : frame.functionName;
    byModule.set(module, (byModule.get(module) ?? 0) + us);
  });
  return {
    busyMs: busy / 1000,
    windowed,
    functions: rank(byFunction, busy, top),
    modules: rank(byModule, busy, top),
  };
}

export const selfTimeLines = (rows: SelfTime[]) =>
  rows.map((row) => `${row.ms.toFixed(0).padStart(8)} ms ${row.percent.toFixed(1).padStart(5)}%  ${row.name}`);

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: tsx tests/load/profile.ts <file.cpuprofile>');
    process.exit(64);
  }
  const summary = summarizeProfile(file);
  console.log(`busy ${summary.busyMs.toFixed(0)} ms\n\nby function (self time):`);
  console.log(selfTimeLines(summary.functions).join('\n'));
  console.log('\nby module (self time):');
  console.log(selfTimeLines(summary.modules).join('\n'));
}
