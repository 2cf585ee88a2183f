import { silentLogger, type Logger } from '../../log/klog.ts';
import { type RunningApiServer, startApiServer } from '../apiserver.ts';

/**
 * startInProcessApiServer starts an API server inside the test's own process, on SQLite in dataDir, listening on
 * 127.0.0.1 only: plain HTTP, anonymous and allow-all (test fixtures only; never what a cluster runs). For unit tests
 * of a component's loop that need a real API without root or a child process.
 */
export function startInProcessApiServer(dataDir: string, logger: Logger = silentLogger()): Promise<RunningApiServer> {
  return startApiServer({
    etcdServers: [],
    dataDir,
    serviceClusterIpRange: '10.0.0.0/16',
    serviceNodePortRange: '30000-32767',
    advertiseAddress: '127.0.0.1',
    bindAddress: '127.0.0.1',
    securePort: 0,
    anonymousAuth: true,
    authorizationModes: ['AlwaysAllow'],
    disabledAdmissionPlugins: ['ServiceAccount'],
    insecureBindAddress: '127.0.0.1',
    insecurePort: 0,
    versionMinor: '33',
    logger,
  });
}
