import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** KUBECTL_VERSIONS are the real kubectl binaries installed here, by minor version. */
export const KUBECTL_VERSIONS = ['1.27', '1.33'] as const;

/** kubectlPath returns the real kubectl of one minor version (the gcloud SDK ships 1.27 to 1.33). */
export function kubectlPath(version: string): string {
  return `/usr/lib/google-cloud-sdk/bin/kubectl.${version}`;
}

/** kubectlAvailable tells whether the real kubectl of that version is installed (tests skip with a message if not). */
export function kubectlAvailable(version: string): boolean {
  return existsSync(kubectlPath(version));
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl runs the real kubectl against a kubeconfig with its own discovery cache dir; input goes to stdin. */
export function kubectl(
  version: string,
  kubeconfig: string,
  cacheDir: string,
  args: string[],
  options: { input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubectlPath(version), [`--kubeconfig=${kubeconfig}`, `--cache-dir=${cacheDir}`, ...args], {
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 30_000,
      env: { ...process.env, HOME: cacheDir, KUBECONFIG: kubeconfig },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b));
    child.stderr.on('data', (b: Buffer) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
