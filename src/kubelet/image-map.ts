import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { busyboxApplets } from '../sys/ldd.ts';
import type { ImageFile } from './sandbox.ts';
import type { ImageUser } from './security-context.ts';

/**
 * The process runtime runs images as host programs. An image maps to what its root filesystem shows (host files
 * and directories, read-only, plus the libraries its programs load, found by ldd; symbolic links), an entrypoint
 * and a default command (as an OCI image config would), its user, and may prepare files in the container's
 * writable layer; the pod's `command` replaces the entrypoint and `args` the command, as in OCI. Admins extend the
 * table with --image-map.
 */
export interface ImageProgram {
  /** Entrypoint and default command; both empty for pause-like images that run nothing. */
  entrypoint: string[];
  cmd: string[];
  env?: Record<string, string>;
  /** Host files or directories in the image: a host path (shown at the same path) or {from, path}. */
  files?: (string | ImageFile)[];
  /** Symbolic links in the image (path → target). */
  links?: Record<string, string>;
  /** The image's user (root when unset). */
  user?: ImageUser;
  workingDir?: string;
  /** Writes what the program needs (config files) into root, the container's writable `/`, and returns the argv. */
  prepare?: (root: string, argv: string[]) => string[];
}

export type ImageTable = { pattern: RegExp; program: ImageProgram }[];

/** busyboxLinks are busybox's applets in /bin, as the busybox image has them. */
let applets: Record<string, string> | undefined;
export function busyboxLinks(): Record<string, string> {
  if (!applets) {
    const list = busyboxApplets();
    applets = Object.fromEntries(list.filter((a) => a && a !== 'busybox').map((a) => [`/bin/${a}`, 'busybox']));
  }
  return applets;
}

/** The tskube checkout this kubelet runs from: the `tskube/tskube` image runs its CLI on its own Node. */
const TSKUBE_ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const TSKUBE_NODE = join(TSKUBE_ROOT, 'node_modules', 'node', 'bin', 'node');
/** TSKUBE_IMAGE is the image whose containers run `tskube <args>` (the cluster DNS Deployment uses it). */
export const TSKUBE_IMAGE = 'tskube/tskube:0.1.0';

const BUSYBOX: ImageFile = { from: '/bin/busybox', path: '/bin/busybox' };

/** DEFAULT_IMAGES maps the lab's images (and a few common ones) to Debian programs. */
export const DEFAULT_IMAGES: ImageTable = [
  {
    pattern: /^(docker\.io\/)?(library\/)?nginx(:.*)?$/,
    program: {
      entrypoint: ['/usr/sbin/nginx'],
      cmd: [],
      files: ['/usr/sbin/nginx', '/etc/nginx/mime.types', '/usr/share/nginx/html'],
      prepare: nginx,
    },
  },
  {
    pattern: /^(docker\.io\/)?(library\/)?busybox(:.*)?$/,
    program: {
      entrypoint: [],
      cmd: ['sh'],
      files: [BUSYBOX],
      get links() {
        return busyboxLinks();
      },
    },
  },
  {
    pattern: /^(docker\.io\/)?(library\/)?node(:.*)?$/,
    program: {
      entrypoint: [],
      cmd: ['node'],
      files: ['/usr/bin/node'],
      links: { '/usr/local/bin/node': '/usr/bin/node' },
    },
  },
  { pattern: /(^|\/)pause(:.*)?$/, program: { entrypoint: [], cmd: [], files: [BUSYBOX] } },
  {
    pattern: /^(docker\.io\/)?tskube\/tskube(:.*)?$/,
    program: {
      entrypoint: [TSKUBE_NODE, '--disable-warning=ExperimentalWarning', join(TSKUBE_ROOT, 'src', 'cli', 'tskube.ts')],
      cmd: ['--help'],
      files: [
        join(TSKUBE_ROOT, 'node_modules'),
        TSKUBE_NODE,
        join(TSKUBE_ROOT, 'src'),
        join(TSKUBE_ROOT, 'package.json'),
        join(TSKUBE_ROOT, 'bin'),
      ],
    },
  },
];

/** imageFileList normalises an image's files to {from, path}. */
export function imageFileList(program: ImageProgram): ImageFile[] {
  return (program.files ?? []).map((f) => (typeof f === 'string' ? { from: f, path: f } : f));
}

/** lookupImage finds the program for an image, or undefined when nothing maps it. */
export function lookupImage(image: string, table: ImageTable): ImageProgram | undefined {
  return table.find((e) => e.pattern.test(image))?.program;
}

/**
 * parseImageMap reads an admin file: JSON `{"<regexp>": {"entrypoint": [...], "cmd": [...], "env": {...},
 * "files": ["/host/path", {"from": "/host/path", "path": "/in/container"}], "links": {"/bin/sh": "busybox"},
 * "busybox": true (busybox and its applets in /bin), "user": {"uid": 1000, "gid": 1000}, "workingDir": "/"}}`.
 */
export function parseImageMap(text: string): ImageTable {
  const doc = JSON.parse(text) as Record<
    string,
    {
      entrypoint?: string[];
      cmd?: string[];
      env?: Record<string, string>;
      files?: (string | ImageFile)[];
      links?: Record<string, string>;
      busybox?: boolean;
      user?: ImageUser;
      workingDir?: string;
    }
  >;
  return Object.entries(doc).map(([pattern, p]) => {
    const program: ImageProgram = {
      entrypoint: p.entrypoint ?? [],
      cmd: p.cmd ?? [],
      env: p.env,
      files: [...(p.busybox ? [BUSYBOX] : []), ...(p.files ?? [])],
      user: p.user,
      workingDir: p.workingDir,
    };
    if (p.busybox)
      Object.defineProperty(program, 'links', {
        get: () => ({ ...busyboxLinks(), ...(p.links ?? {}) }),
        enumerable: true,
      });
    else program.links = p.links;
    return { pattern: new RegExp(pattern), program };
  });
}

/** containerArgv combines image defaults with the pod's command and args, as OCI runtimes do. */
export function containerArgv(
  program: ImageProgram,
  command: string[] | undefined,
  args: string[] | undefined,
): string[] {
  const entry = command?.length ? command : program.entrypoint;
  const rest = args?.length ? args : command?.length ? [] : program.cmd;
  return [...entry, ...rest];
}

/** nginx runs nginx serving Debian's "Welcome to nginx!" page on :80, logging to the container log. */
function nginx(root: string, argv: string[]): string[] {
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'])
    mkdirSync(join(root, 'var/cache/nginx', d), { recursive: true });
  mkdirSync(join(root, 'etc/nginx'), { recursive: true });
  writeFileSync(
    join(root, 'etc/nginx/nginx.conf'),
    `daemon off;
worker_processes 1;
pid /run/nginx.pid;
error_log stderr notice;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  access_log /dev/stdout;
  client_body_temp_path /var/cache/nginx/body; proxy_temp_path /var/cache/nginx/proxy; fastcgi_temp_path /var/cache/nginx/fastcgi;
  uwsgi_temp_path /var/cache/nginx/uwsgi; scgi_temp_path /var/cache/nginx/scgi;
  server { listen 80; root /usr/share/nginx/html; index index.html index.nginx-debian.html; }
}
`,
  );
  return argv.length > 1 || argv[0] !== '/usr/sbin/nginx'
    ? argv
    : ['/usr/sbin/nginx', '-e', 'stderr', '-c', '/etc/nginx/nginx.conf'];
}
