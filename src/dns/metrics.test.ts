import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsMetrics } from './metrics.ts';

test("DnsMetrics renders cumulative histogram buckets and per-label counters in CoreDNS's names", () => {
  const m = new DnsMetrics('dns://:53');
  const base = {
    proto: 'udp',
    family: '1',
    type: 'A',
    rcode: 'NOERROR',
    plugin: 'kubernetes',
    requestSize: 60,
    responseSize: 90,
  } as const;
  m.request({ ...base, seconds: 0.0001 });
  m.request({ ...base, seconds: 0.003 });
  m.request({ ...base, type: 'SRV', rcode: 'NXDOMAIN', seconds: 0.0001 });
  const text = m.render();
  const s = 'server="dns://:53",zone=".",view=""';
  assert.ok(text.includes(`coredns_dns_requests_total{${s},proto="udp",family="1",type="A"} 2\n`));
  assert.ok(text.includes(`coredns_dns_requests_total{${s},proto="udp",family="1",type="SRV"} 1\n`));
  assert.ok(text.includes(`coredns_dns_responses_total{${s},rcode="NXDOMAIN",plugin="kubernetes"} 1\n`));
  assert.ok(text.includes(`coredns_dns_request_duration_seconds_bucket{${s},type="A",le="0.00025"} 1\n`));
  assert.ok(text.includes(`coredns_dns_request_duration_seconds_bucket{${s},type="A",le="0.004"} 2\n`));
  assert.ok(text.includes(`coredns_dns_request_duration_seconds_bucket{${s},type="A",le="+Inf"} 2\n`));
  assert.ok(text.includes(`coredns_dns_response_size_bytes_bucket{${s},proto="udp",le="100"} 3\n`));
});
