import type { TemplateProblem } from './template-check.js';

// Where a value may stand in a template that sh sources (format shell-env). The writer escapes a
// value for the inside of double quotes (\ " $ and backtick), which is safe only where sh really
// reads it inside double quotes: a value written alone as KEY="{{value}}" on a line that starts
// outside any quote. Looking at the value's neighbours alone is not enough: a single quote opened
// on an earlier line (A='it ... KEY="{{v}}" ... ') or a quote inside a block that may or may not
// render ({{#if x}}"{{/if}}KEY="{{v}}") puts the value outside the double quotes its line shows,
// where `;` and blanks end the command. So the template's text is read as sh reads it, in
// document order: quotes, backslashes, comments, line continuations and here-documents (whose
// body sh hands to a command as its input: `sh <<E` would run a KEY="{{value}}" line there with
// the escaping undone, so no value may stand in one; `cmd <<A <<B` reads two bodies in turn).
// A command substitution ($(...) or `...`) or a parameter expansion (${...}) starts a reading of
// its own inside double quotes: `X="$(echo "` opens a new double quote, so a KEY="{{value}}" on the
// next line would close that one and leave the value bare. The reader follows one only while its
// text holds nothing that would need a shell's whole grammar to read (a quote, backslash,
// backtick, comment, here-document, nested substitution, `case` or line break); once it meets
// one that does, it no longer knows where sh stands, and no value may follow in the file.

type Quote = 'none' | 'single' | 'double';

interface ShellState {
  quote: Quote;
  /** A backslash outside single quotes: the next character is taken literally. */
  escaped: boolean;
  /** Inside a comment (a `#` that starts a word outside quotes), until the end of the line. */
  comment: boolean;
  /** The quote the current line started in, and whether a backslash joined it to the one before. */
  lineQuote: Quote;
  lineContinued: boolean;
  /** The last character read (a `#` starts a comment only at the start of a word). */
  previous: string;
  /** A `<<` read on this line: its delimiter word as far as read (`<<-` strips leading tabs). */
  operator?: { word: string; started: boolean; ended: boolean; stripTabs: boolean };
  /** Here-document bodies still to read, the one being read first, each until a line that is its delimiter. */
  heredocs: Array<{ delimiter: string; stripTabs: boolean }>;
  /** The `<<` operators read on this line after the first (their bodies follow the first one's). */
  pending: Array<{ word: string; stripTabs: boolean }>;
  /** Inside a command substitution or parameter expansion the reader follows: its kind and open parentheses. */
  substitution?: { kind: '$(' | '`' | '${'; depth: number; text: string; arithmetic?: boolean };
  /** A substitution the reader could not follow: where sh stands after it is not known. */
  lost: boolean;
  /** The current line's text so far (a here-document ends at a line equal to its delimiter). */
  line: string;
}

const copy = (state: ShellState): ShellState => ({
  ...state,
  heredocs: state.heredocs.map((body) => ({ ...body })),
  pending: state.pending.map((operator) => ({ ...operator })),
  ...(state.operator ? { operator: { ...state.operator } } : {}),
  ...(state.substitution ? { substitution: { ...state.substitution } } : {}),
});
const same = (a: ShellState, b: ShellState): boolean =>
  a.quote === b.quote &&
  a.escaped === b.escaped &&
  a.comment === b.comment &&
  a.heredocs.map((body) => body.delimiter).join('\n') === b.heredocs.map((body) => body.delimiter).join('\n') &&
  (a.operator === undefined) === (b.operator === undefined) &&
  a.pending.length === b.pending.length &&
  a.substitution?.kind === b.substitution?.kind;

/** What a followed substitution's text may not hold: reading it would need sh's whole grammar. */
const UNFOLLOWED = /['"\\`#\n]|\$\(|\$\{|<<|\bcase\b/;
/** The same for an arithmetic expansion $((...)), where `<<` is a shift. */
const UNFOLLOWED_ARITHMETIC = /['"\\`#\n]|\$\(|\$\{/;

/** One character (not a line feed) inside a substitution the reader follows. */
function readSubstitution(state: ShellState, character: string): void {
  const substitution = state.substitution as NonNullable<ShellState['substitution']>;
  // `$((` is an arithmetic expansion: two parentheses to close.
  if (substitution.kind === '$(' && substitution.text === '' && character === '(' && !substitution.arithmetic) {
    substitution.arithmetic = true;
    substitution.depth = 2;
    return;
  }
  const closes = substitution.kind === '`' ? character === '`' : substitution.kind === '${' ? character === '}' : character === ')' && substitution.depth === 1;
  if (closes) {
    state.substitution = undefined;
    return;
  }
  substitution.text += character;
  if ((substitution.arithmetic ? UNFOLLOWED_ARITHMETIC : UNFOLLOWED).test(substitution.text) || (substitution.kind === '${' && character === '{')) {
    state.lost = true;
    state.substitution = undefined;
  } else if (substitution.kind === '$(') substitution.depth += character === '(' ? 1 : character === ')' ? -1 : 0;
}

/** Characters that end a here-document's delimiter word outside quotes. */
const WORD_END = /[\s;&|<>()]/;

function read(state: ShellState, text: string): void {
  for (const character of text) {
    if (state.substitution !== undefined && character !== '\n') {
      readSubstitution(state, character);
      state.line += character;
      state.previous = character;
      continue;
    }
    if (character === '\n') {
      // A substitution open at a line's end is one the reader does not follow.
      if (state.substitution !== undefined) {
        state.lost = true;
        state.substitution = undefined;
      }
      const continued = state.escaped;
      const body = state.heredocs[0];
      if (body !== undefined) {
        const line = body.stripTabs ? state.line.replace(/^\t+/, '') : state.line;
        if (line === body.delimiter) state.heredocs.shift();
      } else if (state.operator !== undefined && !continued) {
        // `<<` with no word (bash's <<<) opens no here-document; `cmd <<A <<B` opens two, read in turn.
        state.heredocs = [...state.pending, state.operator].filter((operator) => operator.word !== '').map((operator) => ({ delimiter: operator.word, stripTabs: operator.stripTabs }));
        state.operator = undefined;
        state.pending = [];
      }
      state.line = '';
      state.escaped = false;
      state.comment = false;
      state.lineQuote = state.quote;
      state.lineContinued = continued;
      state.previous = character;
      continue;
    }
    state.line += character;
    // A here-document's body is data until its delimiter line: no quote or comment of it counts.
    if (state.heredocs.length > 0) continue;
    const operator = state.operator;
    if (operator !== undefined && !operator.ended && !state.comment) {
      // The delimiter word after << (or <<-): quotes and backslashes in it only quote it.
      const quoted = state.quote !== 'none' || state.escaped;
      if (!operator.started && character === '-' && operator.word === '' && state.previous === '<') operator.stripTabs = true;
      else if (!quoted && /[\s]/.test(character)) {
        if (operator.started) operator.ended = true;
      } else if (!quoted && WORD_END.test(character)) operator.ended = operator.started;
      else if (quoted || !/['"\\]/.test(character)) {
        operator.started = true;
        if (!(state.quote === 'double' && character === '"') && !(state.quote === 'single' && character === "'")) operator.word += character;
      }
    }
    if (state.comment) {
      // the comment runs to the end of the line
    } else if (state.escaped) state.escaped = false;
    else if (state.quote === 'single') {
      if (character === "'") state.quote = 'none';
    } else if (character === '\\') state.escaped = true;
    // Outside single quotes, and inside double quotes too, these start a reading of their own.
    else if (character === '`') state.substitution = { kind: '`', depth: 1, text: '' };
    else if ((character === '(' || character === '{') && state.previous === '$') state.substitution = { kind: character === '(' ? '$(' : '${', depth: 1, text: '' };
    else if (state.quote === 'double') {
      if (character === '"') state.quote = 'none';
    } else if (character === "'") state.quote = 'single';
    else if (character === '"') state.quote = 'double';
    else if (character === '#' && /^$|[\s;&|()]/.test(state.previous)) state.comment = true;
    else if (character === '<' && state.previous === '<' && (state.operator === undefined || state.operator.ended || state.operator.started)) {
      if (state.operator !== undefined) state.pending.push({ word: state.operator.word, stripTabs: state.operator.stripTabs });
      state.operator = { word: '', started: false, ended: false, stripTabs: false };
    }
    state.previous = character;
  }
}

const QUOTE_WORDS: Record<Quote, string> = { none: 'no quote', single: "a single quote (')", double: 'a double quote (")' };

const SUBSTITUTION_WORDS = { '$(': 'a command substitution $(', '`': 'a command substitution `', '${': 'a parameter expansion ${' } as const;

function describeState(state: ShellState): string {
  if (state.substitution !== undefined) return SUBSTITUTION_WORDS[state.substitution.kind];
  if (state.heredocs.length > 0) return `a here-document (<<${state.heredocs[0]?.delimiter})`;
  if (state.escaped) return 'a backslash that takes the next character literally';
  if (state.comment) return 'a comment';
  return QUOTE_WORDS[state.quote];
}

/** Problems of a shell-env template's layout: values outside KEY="..." as sh reads the file. */
export function shellEnvLayoutProblems(program: hbs.AST.Program): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const at = (node: hbs.AST.Node, message: string): void => {
    problems.push({ line: node.loc.start.line, col: node.loc.start.column + 1, message });
  };
  const state: ShellState = { quote: 'none', escaped: false, comment: false, lineQuote: 'none', lineContinued: false, previous: '', line: '', heredocs: [], pending: [], lost: false };
  const visit = (program: hbs.AST.Program): void => {
    const body = program.body as hbs.AST.Node[];
    body.forEach((node, index) => {
      if (node.type === 'ContentStatement') {
        const content = node as hbs.AST.ContentStatement;
        // The text as written (value is it after {{~ }} stripping): positions count in it.
        const written = String((content as unknown as { original: string }).original);
        const cr = written.indexOf('\r');
        if (cr >= 0) {
          const lines = written.slice(0, cr).split('\n');
          problems.push({
            line: node.loc.start.line + lines.length - 1,
            col: (lines.length === 1 ? node.loc.start.column : 0) + lines.at(-1)!.length + 1,
            message: 'a carriage return (a line end saved as CRLF?): sh reads it as part of the line, so a value before it would end in a CR; save the template with LF line ends',
          });
        }
        read(state, content.value);
      } else if (node.type === 'MustacheStatement') {
        if (state.lost) {
          at(node, 'in a shell-env template no value follows a command substitution ($(...) or `...`) or parameter expansion (${...}) whose text holds a quote, backslash, backtick, comment, here-document, nested substitution, case or line break: lvsprov does not follow sh into those, so it cannot tell that the value stands in double quotes; compute such values in the script that sources the file');
        } else if (state.substitution !== undefined) {
          at(node, 'in a shell-env template no value stands inside a command substitution or parameter expansion: write it as KEY="{{value}}" on a line of its own');
        } else if (state.heredocs.length > 0 || state.operator !== undefined) {
          const delimiter = state.heredocs[0]?.delimiter ?? state.operator?.word ?? '';
          at(node, `in a shell-env template no value stands in a here-document (<<${delimiter}): sh hands its body to a command as input, where another shell would run the value with its escaping undone; write it as KEY="{{value}}" outside the here-document`);
        } else if (!standsInDoubleQuotes(body, index)) at(node, 'in a shell-env template each value stands alone in double quotes, as KEY="{{value}}", so that it can be escaped for sh');
        else if (state.quote !== 'double' || state.escaped || state.comment || state.lineQuote !== 'none' || state.lineContinued) {
          const where = state.lineContinued
            ? 'on a line joined to the one before by a backslash'
            : state.lineQuote !== 'none'
              ? `on a line that starts inside ${QUOTE_WORDS[state.lineQuote]} opened on an earlier line`
              : `after ${describeState(state)} opened before it`;
          at(node, `in a shell-env template each value stands alone in double quotes, as KEY="{{value}}" on a line of its own, but this one stands ${where}: sh would not read it inside the double quotes it is escaped for`);
        }
        // The value itself is escaped for the double quotes: it changes no state.
        state.previous = 'x';
        state.line += 'x';
      } else if (node.type === 'BlockStatement') {
        // A block renders its text once, many times or not at all, so its text must leave sh's
        // state as it found it; each branch is read from the state before the block.
        const block = node as hbs.AST.BlockStatement;
        const before = copy(state);
        let lost = state.lost;
        for (const branch of [block.program, block.inverse]) {
          if (!branch) continue;
          Object.assign(state, copy(before));
          visit(branch);
          lost ||= state.lost;
          if (!same(state, before)) {
            const name = (block.path as hbs.AST.PathExpression).original;
            at(block, `the text of this {{#${name}}} block leaves ${describeState(state)} open where it found ${describeState(before)}: whether the block renders would change how sh reads the rest of the file; close each quote inside the block`);
          }
        }
        Object.assign(state, copy(before), { lost });
      }
    });
  };
  visit(program);
  return problems;
}

/** The value's neighbours: `KEY="` right before it on its line, `"` right after it, then the line's end or a comment. */
function standsInDoubleQuotes(body: readonly hbs.AST.Node[], index: number): boolean {
  const before = body[index - 1];
  const after = body[index + 1];
  const text = (node: hbs.AST.Node | undefined): string => (node?.type === 'ContentStatement' ? (node as hbs.AST.ContentStatement).value : '');
  return /(^|\n)[A-Za-z_][A-Za-z0-9_]*="$/.test(text(before)) && /^"(\s*#[^\r\n]*)?(\r?\n|$)/.test(text(after));
}
