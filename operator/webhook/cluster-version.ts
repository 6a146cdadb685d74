// The API server's version, read once at start-up (GET /version): native
// sidecars (init containers with restartPolicy Always) are on by default
// from Kubernetes 1.29; older clusters get the proxy as a regular container.
import type { KubeClient } from '../kube/client';

export interface ClusterVersion {
  major: number;
  minor: number;
  gitVersion: string;
}

export const NATIVE_SIDECAR_MINOR = 29;

/** Parses /version; providers write minor as "29+" (GKE, EKS). */
export function parseClusterVersion(info: { major?: string; minor?: string; gitVersion?: string }): ClusterVersion {
  const git = /^v?(\d+)\.(\d+)/.exec(info.gitVersion ?? '');
  const major = parseInt(info.major ?? '', 10);
  const minor = parseInt(info.minor ?? '', 10);
  return {
    major: Number.isNaN(major) ? Number(git?.[1] ?? 0) : major,
    minor: Number.isNaN(minor) ? Number(git?.[2] ?? 0) : minor,
    gitVersion: info.gitVersion ?? '',
  };
}

export function supportsNativeSidecars(v: ClusterVersion): boolean {
  return v.major > 1 || (v.major === 1 && v.minor >= NATIVE_SIDECAR_MINOR);
}

export async function readClusterVersion(client: KubeClient): Promise<ClusterVersion> {
  return parseClusterVersion(await client.request<{ major?: string; minor?: string; gitVersion?: string }>('GET', '/version'));
}
