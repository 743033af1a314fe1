// The IPVS schedulers ipvsadm -s takes (ip_vs_<name> kernel modules): the one list the inventory,
// the ipvs resource and verify share.
export const schedulers = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'] as const;

export type Scheduler = (typeof schedulers)[number];
