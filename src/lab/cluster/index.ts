// `lvsprov lab`: an inventory's cluster as namespace hosts inside one real-kernel qemu guest.
export { clusterTopology, labNetnsName, type ClusterTopology } from './topology.js';
export { clientSubnet } from './address-checks.js';
export { labUp, labName, defaultLabDir, type LabUpOptions, type LabUpResult } from './up.js';
export { labDown, type LabDownResult } from './down.js';
export { missingPrerequisites, describeMissing, requirePrerequisites, LabUnavailableError } from './prerequisites.js';
export { loadClusterState, clusterStatePath, type ClusterState, type ClusterHost } from './state.js';
export { hostArgv, hostCommand } from './guest-lab.js';
export { readyInventory, labKnownHosts } from './ready-inventory.js';
