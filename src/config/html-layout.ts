import type { TemplateProblem } from './template-check.js';

// Where a value may stand in an html template. The writer escapes a value as HTML text (& < > " '
// ` =), which keeps it text in an element's content and inside a quoted attribute value, and
// nowhere else: inside <script> or <style> it is code (`1;alert(1)` needs none of those
// characters), in an event handler attribute (onclick) or a style attribute likewise, at the
// start of a URL attribute (href, src, ...) it picks the scheme (`javascript:...`), and in an
// unquoted attribute value or a tag's name a blank starts another attribute. So the template's
// own text is read as a browser tokenizes it, in document order, and a value is refused there.

type Place =
  | { kind: 'text' }
  | { kind: 'raw'; element: string }
  | { kind: 'comment' }
  | { kind: 'tag'; name: string; attribute: string; stage: 'name' | 'between' | 'attribute' | 'after-attribute' | 'before-value' | 'value'; quote: '"' | "'" | ''; value: string };

const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript', 'plaintext']);
/** Elements whose content is code, where an escaped value is still code. */
const CODE = new Set(['script', 'style']);
const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'srcset', 'data', 'poster', 'background', 'cite', 'codebase', 'longdesc', 'manifest', 'xlink:href', 'ping', 'lowsrc', 'dynsrc']);

interface State {
  place: Place;
}

const copy = (state: State): State => ({ place: { ...state.place } });
const describe = (state: State): string => JSON.stringify(state.place);

function read(state: State, text: string): void {
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index]!;
    const place = state.place;
    if (place.kind === 'comment') {
      if (text.startsWith('-->', index)) {
        state.place = { kind: 'text' };
        index += 2;
      }
    } else if (place.kind === 'raw') {
      if (text.slice(index, index + 2 + place.element.length).toLowerCase() === `</${place.element}`) {
        state.place = { kind: 'tag', name: `/${place.element}`, attribute: '', stage: 'between', quote: '', value: '' };
        index += 1 + place.element.length;
      }
    } else if (place.kind === 'text') {
      if (text.startsWith('<!--', index)) {
        state.place = { kind: 'comment' };
        index += 3;
      } else if (character === '<' && /[A-Za-z/!?]/.test(text[index + 1] ?? '')) {
        state.place = { kind: 'tag', name: '', attribute: '', stage: 'name', quote: '', value: '' };
      }
    } else {
      // inside a tag
      if (place.stage === 'value' && place.quote !== '') {
        if (character === place.quote) place.stage = 'between';
        else place.value += character;
      } else if (character === '>') {
        const element = place.name.toLowerCase();
        state.place = RAW_TEXT.has(element) ? { kind: 'raw', element } : { kind: 'text' };
      } else if (/\s/.test(character)) {
        if (place.stage === 'name') place.stage = 'between';
        else if (place.stage === 'attribute') place.stage = 'after-attribute';
        else if (place.stage === 'value') place.stage = 'between';
      } else if (character === '=' && (place.stage === 'attribute' || place.stage === 'after-attribute')) {
        place.stage = 'before-value';
      } else if (place.stage === 'before-value') {
        place.stage = 'value';
        place.quote = character === '"' || character === "'" ? character : '';
        place.value = place.quote === '' ? character : '';
      } else if (place.stage === 'name') place.name += character;
      else if (place.stage === 'between' || place.stage === 'after-attribute') {
        place.stage = 'attribute';
        place.attribute = character.toLowerCase();
      } else if (place.stage === 'attribute') place.attribute += character.toLowerCase();
      else if (place.stage === 'value') place.value += character;
    }
  }
}

/** Why a value cannot stand where `state` is, or undefined where the HTML escaping keeps it text. */
function refusal(state: State): string | undefined {
  const place = state.place;
  if (place.kind === 'text' || place.kind === 'comment') return undefined;
  if (place.kind === 'raw') return CODE.has(place.element) ? `stands inside <${place.element}>, where HTML escaping does not keep a value from being code` : undefined;
  if (place.stage !== 'value' || place.quote === '') {
    return place.stage === 'value' || place.stage === 'before-value'
      ? `stands in the unquoted value of the attribute ${place.attribute}, where a blank starts another attribute: quote it (${place.attribute}="{{...}}")`
      : `stands inside the tag <${place.name}> but not in a quoted attribute value: it would write the tag's own names`;
  }
  if (/^on/.test(place.attribute) || place.attribute === 'style') return `stands in the attribute ${place.attribute}, whose value is code, where HTML escaping does not keep it inert`;
  // The attribute's value is itself HTML, unescaped once more as the frame reads it.
  if (place.attribute === 'srcdoc') return 'stands in the attribute srcdoc, whose value is a page of HTML, where escaping it once does not keep it text';
  const url = urlSoFar(place);
  if (url !== undefined && !/[/?#:]/.test(url)) {
    return `stands where the URL of the attribute ${place.attribute} can still choose its scheme (javascript:...; blanks before it are dropped, and letters before it join it): write the URL's start in the template, up to a / or the scheme's : (${place.attribute}="/path/{{...}}" or "https://...")`;
  }
  // `/{{x}}` with x = `/evil.example/` is `//evil.example/`, a URL of another site (browsers read a
  // backslash as a slash there too).
  if (url !== undefined && /^\s*[/\\]+$/.test(url)) {
    return `stands right after the / that starts the URL of the attribute ${place.attribute}, where a value that starts with / or \\ makes it //host, a URL of another site: write the path's first part in the template (${place.attribute}="/path/{{...}}")`;
  }
  return undefined;
}

/**
 * The text of the URL the value would stand in, from the URL's start (the template's text before
 * the value), or undefined where the value stands in no URL: a URL attribute; one candidate of a
 * srcset (after its last comma); a meta refresh's content after `url=`.
 */
function urlSoFar(place: Extract<Place, { kind: 'tag' }>): string | undefined {
  if (place.attribute === 'srcset') return place.value.slice(place.value.lastIndexOf(',') + 1);
  if (URL_ATTRIBUTES.has(place.attribute)) return place.value;
  if (place.attribute === 'content' && place.name.toLowerCase() === 'meta') {
    const target = /url\s*=\s*['"]?/gi;
    let start: number | undefined;
    for (let found = target.exec(place.value); found !== null; found = target.exec(place.value)) start = found.index + found[0].length;
    return start === undefined ? undefined : place.value.slice(start);
  }
  return undefined;
}

/** Problems of an html template's layout: values where HTML escaping does not make them text. */
export function htmlLayoutProblems(program: hbs.AST.Program): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const at = (node: hbs.AST.Node, message: string): void => {
    problems.push({ line: node.loc.start.line, col: node.loc.start.column + 1, message });
  };
  const state: State = { place: { kind: 'text' } };
  const visit = (program: hbs.AST.Program): void => {
    for (const node of program.body as hbs.AST.Node[]) {
      if (node.type === 'ContentStatement') read(state, (node as hbs.AST.ContentStatement).value);
      else if (node.type === 'MustacheStatement') {
        const why = refusal(state);
        if (why !== undefined) at(node, `in an html template this value ${why}`);
        // The value is written as escaped text, part of the value it stands in: a letter stands for it
        // (it may hold no / or :, so what follows it may still be in a URL's scheme).
        if (state.place.kind === 'tag' && state.place.stage === 'value') state.place.value += 'x';
      } else if (node.type === 'BlockStatement') {
        // A block renders once, many times or not at all: its text must leave the place as it found it.
        const block = node as hbs.AST.BlockStatement;
        const before = copy(state);
        for (const branch of [block.program, block.inverse]) {
          if (!branch) continue;
          Object.assign(state, copy(before));
          visit(branch);
          if (describe(state) !== describe(before) && !(state.place.kind === 'tag' && before.place.kind === 'tag' && state.place.stage === before.place.stage && state.place.quote === before.place.quote && state.place.name === before.place.name)) {
            const name = (block.path as hbs.AST.PathExpression).original;
            at(block, `the text of this {{#${name}}} block opens a tag, attribute, comment or element it does not close: whether it renders would change where later values stand; close it inside the block`);
          }
        }
        Object.assign(state, copy(before));
      }
    }
  };
  visit(program);
  return problems;
}
