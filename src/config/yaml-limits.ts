// The bounds lvsprov puts on every YAML file it reads (inventory, playbook, role files). They are far
// above any real cluster description and far below what would exhaust memory or the stack, so a
// hostile or broken file is refused with a position instead of taking the process down.

export const yamlLimits = {
  /** Bytes per file; a 5 MB inventory of 70,000 hosts is well inside. */
  maxBytes: 16 * 1024 * 1024,
  /** Nested mappings and lists; the inventory itself needs 6. */
  maxDepth: 64,
  /** Aliases may add as many nodes as the file holds, plus this many (for small files sharing a block). */
  aliasNodeAllowance: 10_000,
} as const;
