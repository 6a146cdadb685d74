// What the benches read about other processes from /proc: CPU used so far,
// and which processes are the control plane. One copy for bench:proxy,
// bench:operator and the webhook bench.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  // /proc/<pid>/stat: fields 14 and 15 (utime, stime) after the parenthesised command.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Pids of the control plane's processes: their command lines name its state folder. */
export function controlPlanePids(stateDir: string): { apiserver?: number; etcd?: number } {
  const out: { apiserver?: number; etcd?: number } = {};
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.includes(stateDir)) continue;
    if (cmdline.includes('kube-apiserver')) out.apiserver = Number(entry);
    else if (cmdline.includes('etcd')) out.etcd = Number(entry);
  }
  return out;
}
