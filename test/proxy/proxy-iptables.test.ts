/** The kernel tests of `tskube proxy` in iptables mode (the suite is in proxy-suite.ts). */
import { proxySuite } from './proxy-suite.ts';

proxySuite('iptables', 'tkp');
