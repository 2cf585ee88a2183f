import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The process runtime runs images as host programs. An image maps to an entrypoint and a default command (as an
 * OCI image config would), and may prepare files in the container's directory; the pod's `command` replaces the
 * entrypoint and `args` the command, as in OCI. Admins extend the table with --image-map.
 */
export interface ImageProgram {
  /** Entrypoint and default command; undefined for pause-like images that run nothing. */
  entrypoint: string[];
  cmd: string[];
  env?: Record<string, string>;
  /** Writes what the program needs (config files) into dir and returns the final argv for it. */
  prepare?: (dir: string, argv: string[]) => string[];
  /** Host paths the program needs besides the usual system ones (for a private root filesystem built from them). */
  files?: string[];
}

export type ImageTable = { pattern: RegExp; program: ImageProgram }[];

const BUSYBOX_BIN = '/var/lib/tskube/busybox/bin';
/** The tskube checkout this kubelet runs from: the `tskube/tskube` image runs its CLI on its own Node. */
const TSKUBE_ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const TSKUBE_NODE = join(TSKUBE_ROOT, 'node_modules', 'node', 'bin', 'node');
/** TSKUBE_IMAGE is the image whose containers run `tskube <args>` (the cluster DNS Deployment uses it). */
export const TSKUBE_IMAGE = 'tskube/tskube:0.1.0';
/** The applets people use in busybox pods, to debug networking and DNS above all. */
const BUSYBOX_APPLETS = ['sh', 'wget', 'httpd', 'sleep', 'echo', 'cat', 'ls', 'ping', 'ping6', 'nc', 'nslookup', 'traceroute', 'telnet', 'hostname', 'ip', 'ifconfig', 'route', 'netstat', 'arp', 'true', 'false', 'env', 'date', 'ps', 'top', 'grep', 'sed', 'awk', 'head', 'tail', 'mkdir', 'touch', 'rm', 'cp', 'mv', 'seq', 'wc', 'test', '[', 'printf', 'id', 'uname', 'kill', 'arping', 'timeout', 'tr', 'cut', 'sort', 'uniq', 'xargs', 'find', 'vi', 'less', 'more', 'du', 'df', 'which', 'whoami', 'watch', 'dirname', 'basename', 'ln', 'chmod', 'stat', 'tee', 'usleep', 'expr', 'yes'];

/** DEFAULT_IMAGES maps the lab's images (and a few common ones) to Debian programs. */
export const DEFAULT_IMAGES: ImageTable = [
  { pattern: /^(docker\.io\/)?(library\/)?nginx(:.*)?$/, program: { entrypoint: ['/usr/sbin/nginx'], cmd: [], prepare: nginx } },
  { pattern: /^(docker\.io\/)?(library\/)?busybox(:.*)?$/, program: { entrypoint: [], cmd: ['sh'], env: { PATH: `${BUSYBOX_BIN}:/usr/bin:/bin` }, prepare: busybox } },
  { pattern: /^(docker\.io\/)?(library\/)?node(:.*)?$/, program: { entrypoint: [], cmd: ['node'] } },
  { pattern: /(^|\/)pause(:.*)?$/, program: { entrypoint: [], cmd: [] } },
  { pattern: /^(docker\.io\/)?tskube\/tskube(:.*)?$/, program: { entrypoint: [TSKUBE_NODE, '--disable-warning=ExperimentalWarning', join(TSKUBE_ROOT, 'src', 'cli', 'tskube.ts')], cmd: ['--help'], files: [join(TSKUBE_ROOT, 'node_modules'), join(TSKUBE_ROOT, 'src'), join(TSKUBE_ROOT, 'package.json'), join(TSKUBE_ROOT, 'bin')] } },
];

/** lookupImage finds the program for an image, or undefined when nothing maps it. */
export function lookupImage(image: string, table: ImageTable): ImageProgram | undefined {
  return table.find((e) => e.pattern.test(image))?.program;
}

/** parseImageMap reads an admin file: JSON `{"<regexp>": {"entrypoint": [...], "cmd": [...]}}`. */
export function parseImageMap(text: string): ImageTable {
  const doc = JSON.parse(text) as Record<string, { entrypoint?: string[]; cmd?: string[]; env?: Record<string, string> }>;
  return Object.entries(doc).map(([pattern, p]) => ({ pattern: new RegExp(pattern), program: { entrypoint: p.entrypoint ?? [], cmd: p.cmd ?? [], env: p.env } }));
}

/** containerArgv combines image defaults with the pod's command and args, as OCI runtimes do. */
export function containerArgv(program: ImageProgram, command: string[] | undefined, args: string[] | undefined): string[] {
  const entry = command && command.length ? command : program.entrypoint;
  const rest = args && args.length ? args : command && command.length ? [] : program.cmd;
  return [...entry, ...rest];
}

/** nginx runs a per-pod nginx serving Debian's "Welcome to nginx!" page on :80, logging to the container log. */
function nginx(dir: string, argv: string[]): string[] {
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, 'tmp', d), { recursive: true });
  writeFileSync(join(dir, 'nginx.conf'), `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr notice;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  access_log /dev/stdout;
  client_body_temp_path ${dir}/tmp/body; proxy_temp_path ${dir}/tmp/proxy; fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi; scgi_temp_path ${dir}/tmp/scgi;
  server { listen 80; root /usr/share/nginx/html; index index.html index.nginx-debian.html; }
}
`);
  return argv.length > 1 || argv[0] !== '/usr/sbin/nginx' ? argv : ['/usr/sbin/nginx', '-e', 'stderr', '-p', dir, '-c', join(dir, 'nginx.conf')];
}

/** busybox puts the applets on PATH once, so `sh -c`, `wget`, `httpd` and friends resolve inside the pod. */
function busybox(_dir: string, argv: string[]): string[] {
  mkdirSync(BUSYBOX_BIN, { recursive: true });
  // Symlinks for the applets pods use most, as `busybox --install -s` would make; new ones are added on upgrade.
  for (const applet of BUSYBOX_APPLETS) {
    if (!existsSync(join(BUSYBOX_BIN, applet))) symlinkSync('/bin/busybox', join(BUSYBOX_BIN, applet));
  }
  return argv;
}
