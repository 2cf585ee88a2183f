/**
 * Run inside a node's network namespace by bench/dns.ts: creates Services one at a time through the API server and
 * measures, for each, how long until the DNS pod answers its name (UDP, polled every millisecond); prints the
 * latencies in ms as JSON. Usage: dns-create-probe.ts <kubeconfig> <DNS pod IP> <count>
 */
import dgram from 'node:dgram';
import * as packet from 'dns-packet';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { RestClient } from '../src/client/rest-client.ts';
import { sleep } from '../src/util/wait.ts';

const [kubeconfig, dnsIP, countText] = process.argv.slice(2);
const client = new RestClient(await loadKubeconfig(kubeconfig!), { userAgent: 'bench-dns' });
const socket = dgram.createSocket('udp4');
let waiting: ((rcode: string) => void) | undefined;
socket.on('message', (m) => waiting?.((packet.decode(m) as { rcode?: string }).rcode ?? ''));
await new Promise<void>((resolve) => socket.bind(0, resolve));

function ask(name: string): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('TIMEOUT'), 200);
    waiting = (rcode) => {
      clearTimeout(timer);
      resolve(rcode);
    };
    socket.send(
      packet.encode({
        type: 'query',
        id: 1,
        flags: packet.RECURSION_DESIRED,
        questions: [{ name, type: 'A', class: 'IN' }],
      }),
      53,
      dnsIP,
    );
  });
}

const latencies: number[] = [];
const run = Date.now().toString(36);
for (let i = 0; i < Number(countText); i++) {
  const name = `fresh-${run}-${i}`;
  const t = performance.now();
  await client.create(client.resource('services'), 'default', { metadata: { name }, spec: { ports: [{ port: 80 }] } });
  while ((await ask(`${name}.default.svc.cluster.local`)) !== 'NOERROR') await sleep(1);
  latencies.push(performance.now() - t);
}
process.stdout.write(JSON.stringify(latencies));
socket.close();
client.close();
