// Writes an inventory of about 5 MB (74,920 hosts in 198.18.0.0/15, each with a variable) to stdout,
// for measuring how validation scales: node scripts/big-inventory.mjs > /tmp/big.yaml
const lines = ['hosts:'];
for (let n = 1; n <= 74_920; n += 1) {
  lines.push(`  host${n}: { address: 198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}, vars: { note: host${n} } }`);
}
process.stdout.write(`${lines.join('\n')}\n`);
