// The annotation the webhook leaves on a pod it injected: the mode it chose
// and the containers the pod had afterwards. It is how the decision tells a
// pod that needs nothing more (re-submitted, or re-invoked with nothing
// added) from one a later webhook extended with a container that still needs
// the proxy environment.
import type { CaptureMode } from './names';
import type { Pod } from './pod';

export interface SidecarStatus {
  mode: CaptureMode;
  native: boolean;
  containers: string[];
  initContainers: string[];
}

export function sidecarStatusOf(pod: Pod, mode: CaptureMode, native: boolean): SidecarStatus {
  return {
    mode,
    native,
    containers: pod.spec.containers.map((c) => c.name),
    initContainers: (pod.spec.initContainers ?? []).map((c) => c.name),
  };
}

export function formatSidecarStatus(s: SidecarStatus): string {
  return JSON.stringify({ mode: s.mode, native: s.native, containers: s.containers, initContainers: s.initContainers });
}

/** The status, or undefined when absent or not ours (a hand-edited value counts as absent). */
export function parseSidecarStatus(text: string | undefined): SidecarStatus | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as Partial<SidecarStatus>;
    const names = (x: unknown): x is string[] => Array.isArray(x) && x.every((n) => typeof n === 'string');
    if ((v.mode !== 'explicit' && v.mode !== 'transparent') || typeof v.native !== 'boolean') return undefined;
    if (!names(v.containers) || !names(v.initContainers)) return undefined;
    return { mode: v.mode, native: v.native, containers: v.containers, initContainers: v.initContainers };
  } catch {
    return undefined;
  }
}

export function sidecarStatusMatches(s: SidecarStatus, pod: Pod): boolean {
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((n, i) => n === b[i]);
  return same(s.containers, pod.spec.containers.map((c) => c.name)) && same(s.initContainers, (pod.spec.initContainers ?? []).map((c) => c.name));
}
