// The annotation the webhook leaves on a pod it injected: the mode it chose
// and the containers the pod had afterwards, for whoever reads the pod. The
// webhook no longer reads it back: it once skipped a pod whose status matched
// its containers, but a pod's author can write the same status, and a skipped
// pod would keep the proxy uid the author put in it (see decide-injection.ts).
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
