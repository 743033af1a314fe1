import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { derivedVariables } from './derived-variables.js';
import { roleMetaSchema } from './playbook-schema.js';
import { packageRoot } from './roles.js';
import { parseWith } from './validate.js';
import { describeType, withoutArticle, type VariableType } from './variable-types.js';
import { YamlSource } from './yaml-source.js';

// The README's tables of role variables and derived variables, generated from the shipped roles'
// role.yaml and from derived-variables.ts, so that they cannot drift apart (a unit test compares).

function typeText(kind: VariableType): string {
  if (kind.type === 'list' && kind.items.type === 'object') return `list of {${Object.keys(kind.items.fields).join(', ')}}`;
  if (kind.type === 'object') return `{${Object.keys(kind.fields).join(', ')}}`;
  return withoutArticle(describeType(kind));
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

export function roleVariablesReference(rolesDir = join(packageRoot, 'roles')): string {
  const out = ['| role | variable | type | default | meaning |', '| --- | --- | --- | --- | --- |'];
  for (const role of readdirSync(rolesDir).sort()) {
    const source = YamlSource.load(join(rolesDir, role, 'role.yaml'));
    const meta = parseWith(source, roleMetaSchema, source.value() ?? {});
    for (const [name, declaration] of Object.entries(meta.variables)) {
      const fallback = declaration.default !== undefined ? `\`${JSON.stringify(declaration.default)}\`` : declaration.optional ? '' : 'required';
      out.push(`| \`${role}\` | \`${name}\` | ${cell(typeText(declaration.kind))} | ${fallback} | ${cell(declaration.description ?? '')} |`);
    }
  }
  return `${out.join('\n')}\n`;
}

export function derivedVariablesReference(): string {
  const out = ['| variable | type | meaning |', '| --- | --- | --- |'];
  for (const [name, derived] of Object.entries(derivedVariables)) {
    out.push(`| \`${name}\` | ${cell(typeText(derived.kind))} | ${cell(derived.description)}${derived.optional ? ' (absent where it does not apply)' : ''} |`);
  }
  return `${out.join('\n')}\n`;
}
