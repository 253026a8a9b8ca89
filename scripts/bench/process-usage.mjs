import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/** Kernel clock ticks per second, the unit of utime and stime in /proc/<pid>/stat; 100 on nearly every Linux. */
const CLOCK_TICKS_PER_SECOND = readClockTicks();

function readClockTicks() {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** User and system CPU time of a process, all threads included, in seconds: utime and stime of /proc/<pid>/stat. */
export function readUserSystemSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses; the fields after its closing ')' are plain.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (field 14) is fields[11] and stime (field 15) is fields[12].
  return { user: Number(fields[11]) / CLOCK_TICKS_PER_SECOND, system: Number(fields[12]) / CLOCK_TICKS_PER_SECOND };
}

/** The same summed over several processes (nginx's master and worker). */
export function sumUserSystemSeconds(pids) {
  return pids.map(readUserSystemSeconds).reduce((sum, usage) => ({ user: sum.user + usage.user, system: sum.system + usage.system }), { user: 0, system: 0 });
}

/** User plus system CPU time of a process, all threads included (the libuv pool that writes the log too), in seconds. */
export function readCpuSeconds(pid) {
  const { user, system } = readUserSystemSeconds(pid);
  return user + system;
}

/**
 * The pids whose parent is `parentPid` (nginx's workers under its master), from /proc/<pid>/stat: field 4 is the
 * parent pid. Processes that vanish while the list is read are skipped.
 */
export function childPids(parentPid) {
  const children = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === parentPid) children.push(Number(entry));
  }
  return children.sort((a, b) => a - b);
}

/**
 * CPU time of this harness plus every child it has already reaped (cutime and cstime: each wrk run, once it has
 * exited), in seconds. The gateway and the simulator are still running, so they are not in it.
 */
export function readHarnessAndFinishedChildrenCpuSeconds() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime, cutime, cstime are fields 14 to 17, fields[11] to fields[14] here.
  return fields.slice(11, 15).reduce((sum, field) => sum + Number(field), 0) / CLOCK_TICKS_PER_SECOND;
}

/**
 * The whole machine's CPU time from the first line of /proc/stat, in seconds: busy (user, nice, system, irq,
 * softirq) and steal (time the hypervisor gave to someone else, which slows every process here without showing up
 * as their CPU time).
 */
export function readMachineCpuSeconds() {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n', 1)[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return { busy: (user + nice + system + irq + softirq) / CLOCK_TICKS_PER_SECOND, steal: steal / CLOCK_TICKS_PER_SECOND };
}

/** A field of /proc/<pid>/status in kB (VmHWM is the peak resident set size, VmRSS the current one). */
function readStatusKilobytes(pid, field) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : undefined;
}

export function readPeakRssMegabytes(pid) {
  const kilobytes = readStatusKilobytes(pid, 'VmHWM');
  return kilobytes === undefined ? undefined : kilobytes / 1024;
}

export function readRssMegabytes(pid) {
  const kilobytes = readStatusKilobytes(pid, 'VmRSS');
  return kilobytes === undefined ? undefined : kilobytes / 1024;
}

/**
 * Resets VmHWM to the current RSS (Linux 4.0+, writing "5" to clear_refs), so that the peak read after a run belongs
 * to that run and not to an earlier, heavier one. Returns false where the kernel or permissions do not allow it; the
 * peak is then the process's peak since it started.
 */
export function resetPeakRss(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export const clockTicksPerSecond = CLOCK_TICKS_PER_SECOND;

/**
 * Counters of the kernel's TCP stack from /proc/net/netstat (this network namespace, every process in it):
 * ListenOverflows counts connections dropped because a listener's accept queue was full, the usual reason a server
 * that falls behind on accepting shows its clients resets and 1 s retransmits instead of slow answers.
 */
export function readTcpCounters(names) {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((line) => line.startsWith('TcpExt:'));
  const keys = lines[0].split(/\s+/).slice(1);
  const values = lines[1].split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((name) => [name, values[keys.indexOf(name)]]));
}
