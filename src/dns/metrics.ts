import { exponentialBuckets, Histogram } from '../util/histogram.ts';

/**
 * DnsMetrics counts what the DNS server does under CoreDNS's metric names (plugin/metrics, plugin/forward), with
 * the labels CoreDNS uses, and renders them in the Prometheus text format.
 */
const DURATION_BUCKETS = exponentialBuckets(0.00025, 2, 16);
const SIZE_BUCKETS = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16000, 32000, 48000, 64000];

/** Family is CoreDNS's `family` label: 1 for IPv4 clients, 2 for IPv6. */
export type Family = '1' | '2';

export class DnsMetrics {
  readonly server: string;
  #requests = new Map<string, number>();
  #responses = new Map<string, number>();
  #durations = new Map<string, Histogram>();
  #requestSizes = new Map<string, Histogram>();
  #responseSizes = new Map<string, Histogram>();
  #forwardRequests = new Map<string, number>();
  #forwardResponses = new Map<string, number>();
  #forwardDurations = new Map<string, Histogram>();
  #series = new Map<
    string,
    { requests: string; responses: string; duration: Histogram; requestSize: Histogram; responseSize: Histogram }
  >();

  constructor(server: string) {
    this.server = server;
  }

  /** request records one answered query (the label strings are built once per combination, not per query). */
  request(options: {
    proto: 'udp' | 'tcp';
    family: Family;
    type: string;
    rcode: string;
    plugin: string;
    seconds: number;
    requestSize: number;
    responseSize: number;
  }): void {
    const key = `${options.proto}|${options.family}|${options.type}|${options.rcode}|${options.plugin}`;
    let series = this.#series.get(key);
    if (!series) {
      const s = `server="${this.server}",zone=".",view=""`;
      const type = knownType(options.type);
      series = {
        requests: `${s},proto="${options.proto}",family="${options.family}",type="${type}"`,
        responses: `${s},rcode="${options.rcode}",plugin="${options.plugin}"`,
        duration: histogram(this.#durations, `${s},type="${type}"`, DURATION_BUCKETS),
        requestSize: histogram(this.#requestSizes, `${s},proto="${options.proto}"`, SIZE_BUCKETS),
        responseSize: histogram(this.#responseSizes, `${s},proto="${options.proto}"`, SIZE_BUCKETS),
      };
      if (this.#series.size < 1000) this.#series.set(key, series);
    }
    bump(this.#requests, series.requests);
    bump(this.#responses, series.responses);
    series.duration.observe(options.seconds);
    series.requestSize.observe(options.requestSize);
    series.responseSize.observe(options.responseSize);
  }

  /** forward records one query sent upstream and its outcome (rcode, or an error). */
  forward(to: string, rcode: string | undefined, seconds: number): void {
    bump(this.#forwardRequests, `to="${to}"`);
    if (rcode) bump(this.#forwardResponses, `rcode="${rcode}",to="${to}"`);
    histogram(this.#forwardDurations, `rcode="${rcode ?? 'error'}",to="${to}"`, DURATION_BUCKETS).observe(seconds);
  }

  render(): string {
    const out: string[] = [];
    const counters = (name: string, help: string, map: Map<string, number>) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, v] of map) out.push(`${name}{${labels}} ${v}`);
    };
    const histograms = (name: string, help: string, map: Map<string, Histogram>) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
      for (const [labels, h] of map) out.push(...h.lines(name, labels));
    };
    out.push(
      "# HELP coredns_build_info A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built.",
      '# TYPE coredns_build_info gauge',
      `coredns_build_info{goversion="${process.version}",revision="tskube",version="1.12.0"} 1`,
    );
    counters(
      'coredns_dns_requests_total',
      'Counter of DNS requests made per zone, protocol and family.',
      this.#requests,
    );
    counters('coredns_dns_responses_total', 'Counter of response status codes.', this.#responses);
    histograms(
      'coredns_dns_request_duration_seconds',
      'Histogram of the time (in seconds) each request took per zone.',
      this.#durations,
    );
    histograms(
      'coredns_dns_request_size_bytes',
      'Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.',
      this.#requestSizes,
    );
    histograms('coredns_dns_response_size_bytes', 'Size of the returned response in bytes.', this.#responseSizes);
    counters('coredns_forward_requests_total', 'Counter of requests made per upstream.', this.#forwardRequests);
    counters('coredns_forward_responses_total', 'Counter of responses received per upstream.', this.#forwardResponses);
    histograms(
      'coredns_forward_request_duration_seconds',
      'Histogram of the time each request took.',
      this.#forwardDurations,
    );
    return `${out.join('\n')}\n`;
  }
}

const KNOWN_TYPES = new Set([
  'A',
  'AAAA',
  'NS',
  'PTR',
  'SOA',
  'CNAME',
  'MX',
  'TXT',
  'SRV',
  'NAPTR',
  'DS',
  'DNSKEY',
  'RRSIG',
  'NSEC',
  'NSEC3',
  'HINFO',
  'IXFR',
  'AXFR',
  'ANY',
]);

/** knownType keeps the `type` label's cardinality bounded, as CoreDNS does ("other" for the rest). */
function knownType(type: string): string {
  return KNOWN_TYPES.has(type) ? type : 'other';
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function histogram(map: Map<string, Histogram>, key: string, buckets: readonly number[]): Histogram {
  let h = map.get(key);
  if (!h) map.set(key, (h = new Histogram(buckets)));
  return h;
}
