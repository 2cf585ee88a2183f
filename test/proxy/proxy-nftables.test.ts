/** The kernel tests of `tskube proxy` in nftables mode (the suite is in proxy-suite.ts). */
import { proxySuite } from './proxy-suite.ts';

proxySuite('nftables', 'tkq');
