/**
 * `tskube proxy`: kube-proxy. `tskube proxy render -f ...` prints rules without running anything.
 */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'render') {
    const { render } = await import('./proxy-render.ts');
    return render(argv.slice(1));
  }
  const { runProxy } = await import('./proxy-daemon.ts');
  return runProxy(argv);
}
