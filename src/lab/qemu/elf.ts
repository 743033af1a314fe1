// The initramfs has no C library, so its busybox must be statically linked. A dynamically linked
// ELF names its loader in a PT_INTERP program header; that is what this looks for.

const ptInterp = 3;

/** True if a 64-bit little-endian ELF image asks for a program interpreter (is dynamically linked). */
export function needsInterpreter(image: Buffer): boolean {
  const isElf64Le = image.readUInt32BE(0) === 0x7f454c46 && image[4] === 2 && image[5] === 1;
  if (!isElf64Le) throw new Error('not a 64-bit little-endian ELF file');
  const phoff = Number(image.readBigUInt64LE(0x20));
  const phentsize = image.readUInt16LE(0x36);
  const phnum = image.readUInt16LE(0x38);
  for (let index = 0; index < phnum; index += 1) {
    if (image.readUInt32LE(phoff + index * phentsize) === ptInterp) return true;
  }
  return false;
}
