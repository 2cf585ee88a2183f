import type { Logger } from '../../log/klog.ts';
import type { Store, WatchEvent } from '../storage/store.ts';
import type { NodeAuthorizer, Decision } from './node-authorizer.ts';
import { type BindingObject, RbacPolicy, type RbacKind, type RoleObject } from './rbac.ts';
import type { Attributes } from './request-attributes.ts';
import { SYSTEM_MASTERS } from './user.ts';

/** AUTHORIZATION_MODES are the --authorization-mode values tskube knows, as upstream spells them. */
export const AUTHORIZATION_MODES = ['AlwaysAllow', 'AlwaysDeny', 'Node', 'RBAC'] as const;
export type AuthorizationMode = (typeof AUTHORIZATION_MODES)[number];

/** RBAC_PREFIXES maps the store's key prefix of each RBAC resource to its kind. */
const RBAC_PREFIXES: Record<string, RbacKind> = {
  '/registry/roles.rbac.authorization.k8s.io/': 'Role',
  '/registry/clusterroles.rbac.authorization.k8s.io/': 'ClusterRole',
  '/registry/rolebindings.rbac.authorization.k8s.io/': 'RoleBinding',
  '/registry/clusterrolebindings.rbac.authorization.k8s.io/': 'ClusterRoleBinding',
};

/**
 * Authorizer asks the configured modes in order (upstream's union authorizer): the first allow or deny wins, and no
 * opinion from all of them is a deny. Members of system:masters are allowed before any mode, as upstream's
 * privileged-group authorizer does. The RBAC policy is kept in memory from a watch on the store.
 */
export class Authorizer {
  readonly policy = new RbacPolicy();
  #modes: readonly AuthorizationMode[];
  #node: NodeAuthorizer;
  #store: Store;
  #logger: Logger;
  #seen = 0;
  #waiters: { revision: number; resolve: () => void }[] = [];
  #abort = new AbortController();

  constructor(options: { modes: readonly AuthorizationMode[]; node: NodeAuthorizer; store: Store; logger: Logger }) {
    this.#modes = options.modes;
    this.#node = options.node;
    this.#store = options.store;
    this.#logger = options.logger;
  }

  /** start loads every Role, ClusterRole and binding and follows their changes. */
  async start(): Promise<void> {
    if (!this.#modes.includes('RBAC')) return;
    let from = 0;
    for (const [prefix, kind] of Object.entries(RBAC_PREFIXES)) {
      const { items, revision } = await this.#store.list(prefix);
      for (const item of items) this.policy.put(kind, storedRbac(item.value));
      from = Math.max(from, revision);
    }
    this.#seen = from;
    for (const [prefix, kind] of Object.entries(RBAC_PREFIXES)) this.#follow(prefix, kind, from);
  }

  stop(): void {
    this.#abort.abort();
  }

  #follow(prefix: string, kind: RbacKind, from: number): void {
    let last = from;
    this.#store.watch(
      prefix,
      from,
      (event: WatchEvent) => {
        last = event.revision;
        const object = storedRbac(event.value);
        if (event.type === 'DELETE') this.policy.remove(kind, object.metadata?.namespace, object.metadata?.name);
        else this.policy.put(kind, object);
        this.#advance(event.revision);
      },
      {
        signal: this.#abort.signal,
        onError: (error) => {
          if (this.#abort.signal.aborted) return;
          this.#logger.warning('RBAC watch ended; relisting', { kind, error: error.message });
          void this.#relist(prefix, kind, last);
        },
      },
    );
  }

  async #relist(prefix: string, kind: RbacKind, last: number): Promise<void> {
    try {
      const { items, revision } = await this.#store.list(prefix);
      for (const item of items) this.policy.put(kind, storedRbac(item.value));
      this.#follow(prefix, kind, Math.max(last, revision));
    } catch (error) {
      this.#logger.error('Cannot relist RBAC objects', { kind, error });
      setTimeout(() => void this.#relist(prefix, kind, last), 1000).unref();
    }
  }

  #advance(revision: number): void {
    if (revision > this.#seen) this.#seen = revision;
    const ready = this.#waiters.filter((w) => w.revision <= this.#seen);
    this.#waiters = this.#waiters.filter((w) => w.revision > this.#seen);
    for (const w of ready) w.resolve();
  }

  /** waitFor resolves once the policy includes a write at revision (so a binding works right after its create). */
  waitFor(revision: number, timeoutMs = 5000): Promise<void> {
    if (!this.#modes.includes('RBAC') || revision <= this.#seen) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.#waiters.push({
        revision,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  async authorize(a: Attributes): Promise<Decision> {
    if (a.user.groups.includes(SYSTEM_MASTERS)) return { decision: 'allow', reason: '' };
    const reasons: string[] = [];
    for (const mode of this.#modes) {
      let d: Decision;
      switch (mode) {
        case 'AlwaysAllow':
          return { decision: 'allow', reason: '' };
        case 'AlwaysDeny':
          return { decision: 'deny', reason: 'Everything is forbidden.' };
        case 'Node':
          d = await this.#node.authorize(a);
          break;
        case 'RBAC': {
          const by = this.policy.allows(a);
          d = by ? { decision: 'allow', reason: `RBAC: allowed by ${by}` } : { decision: 'noOpinion', reason: '' };
          break;
        }
      }
      if (d.decision !== 'noOpinion') return d;
      if (d.reason) reasons.push(d.reason);
    }
    return { decision: 'noOpinion', reason: reasons.join('; ') };
  }
}

/**
 * storedRbac reads a Role, ClusterRole or binding as the registry stored it (after RBAC validation): the one place
 * the watched JSON is read as these types.
 */
function storedRbac(value: string): RoleObject | BindingObject {
  return JSON.parse(value);
}
