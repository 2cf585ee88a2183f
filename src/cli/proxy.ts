import { runProxy } from './proxy-daemon.ts';
import { render } from './proxy-render.ts';

/**
 * `tskube proxy`: kube-proxy. `tskube proxy render -f ...` prints rules without running anything.
 */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'render') return render(argv.slice(1));
  return runProxy(argv);
}
