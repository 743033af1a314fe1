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
// the escaping undone, so no value may stand in one).

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
  /**
   * Inside an arithmetic expansion `$((...))`: its parentheses still open (two at its start). A
   * `<<` there is a shift, not a here-document.
   */
  arithmetic: number;
  /** Inside a here-document's body, until a line that is its delimiter. */
  heredoc?: { delimiter: string; stripTabs: boolean };
  /** The current line's text so far (a here-document ends at a line equal to its delimiter). */
  line: string;
}

const copy = (state: ShellState): ShellState => ({ ...state, ...(state.operator ? { operator: { ...state.operator } } : {}) });
const same = (a: ShellState, b: ShellState): boolean =>
  a.quote === b.quote && a.escaped === b.escaped && a.comment === b.comment && a.arithmetic === b.arithmetic && a.heredoc?.delimiter === b.heredoc?.delimiter && (a.operator === undefined) === (b.operator === undefined);

/** Characters that end a here-document's delimiter word outside quotes. */
const WORD_END = /[\s;&|<>()]/;

function read(state: ShellState, text: string): void {
  for (const character of text) {
    if (character === '\n') {
      const continued = state.escaped;
      if (state.heredoc !== undefined) {
        const line = state.heredoc.stripTabs ? state.line.replace(/^\t+/, '') : state.line;
        if (line === state.heredoc.delimiter) state.heredoc = undefined;
      } else if (state.operator !== undefined && !continued) {
        // `<<` with no word (bash's <<<, an arithmetic shift) opens no here-document.
        if (state.operator.word !== '') state.heredoc = { delimiter: state.operator.word, stripTabs: state.operator.stripTabs };
        state.operator = undefined;
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
    if (state.heredoc !== undefined) continue;
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
    else if (state.quote === 'double') {
      if (character === '"') state.quote = 'none';
    } else if (character === "'") state.quote = 'single';
    else if (character === '"') state.quote = 'double';
    else if (state.arithmetic > 0 && (character === '(' || character === ')')) state.arithmetic += character === '(' ? 1 : -1;
    else if (character === '(' && state.line.endsWith('$((')) state.arithmetic = 2;
    else if (character === '#' && /^$|[\s;&|()]/.test(state.previous)) state.comment = true;
    else if (character === '<' && state.previous === '<' && state.operator === undefined && state.arithmetic === 0) state.operator = { word: '', started: false, ended: false, stripTabs: false };
    state.previous = character;
  }
}

const QUOTE_WORDS: Record<Quote, string> = { none: 'no quote', single: "a single quote (')", double: 'a double quote (")' };

function describeState(state: ShellState): string {
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
  const state: ShellState = { quote: 'none', escaped: false, comment: false, lineQuote: 'none', lineContinued: false, previous: '', line: '', arithmetic: 0 };
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
        if (state.heredoc !== undefined || state.operator !== undefined) {
          const delimiter = state.heredoc?.delimiter ?? state.operator?.word ?? '';
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
        for (const branch of [block.program, block.inverse]) {
          if (!branch) continue;
          Object.assign(state, before);
          visit(branch);
          if (!same(state, before)) {
            const name = (block.path as hbs.AST.PathExpression).original;
            at(block, `the text of this {{#${name}}} block leaves ${describeState(state)} open where it found ${describeState(before)}: whether the block renders would change how sh reads the rest of the file; close each quote inside the block`);
          }
        }
        Object.assign(state, before);
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
