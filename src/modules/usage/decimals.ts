import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';

/*
 * Money is exact decimal text end to end: the API takes and answers decimal strings, PostgreSQL
 * stores and adds `numeric`, and no amount ever passes through a JavaScript number. A JSON number
 * is accepted too, for the fields named below, by reading it as the digits the client wrote
 * before JSON.parse could round it to a double (0.1 stays 0.1, 0.30000000000000004 stays that).
 */

/** Unsigned decimal: up to 20 digits before the point and 20 after, optional exponent (1e-7). */
export const DECIMAL_PATTERN = '^[0-9]{1,20}(\\.[0-9]{1,20})?([eE][-+]?[0-9]{1,2})?$';

export const Decimal = (description: string) =>
  Type.String({ pattern: DECIMAL_PATTERN, maxLength: 48, description });

/** Body fields whose JSON numbers are kept as written. */
const DECIMAL_FIELDS = new Set(['cost', 'monthly_limit', 'max_overage']);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const MINUS = 0x2d;

const isDigit = (code: number) => code >= 0x30 && code <= 0x39;
const isWhitespace = (code: number) => code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
const isNumberPart = (code: number) =>
  isDigit(code) || code === 0x2e || code === 0x65 || code === 0x45 || code === 0x2b || code === MINUS;

/**
 * Rewrites JSON text so that every number that is the value of one of `fields` becomes a string
 * of the same digits: `{"cost": 0.1}` -> `{"cost": "0.1"}`. Everything else is copied as it is;
 * malformed text stays malformed for the JSON parser to refuse.
 */
export function quoteDecimalNumbers(text: string, fields: ReadonlySet<string> = DECIMAL_FIELDS): string {
  const parts: string[] = [];
  let copied = 0;
  let lastString = '';
  let key: string | null = null;
  let afterColon = false;
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      let end = i + 1;
      while (end < text.length && text.charCodeAt(end) !== QUOTE) {
        end += text.charCodeAt(end) === BACKSLASH ? 2 : 1;
      }
      lastString = text.slice(i, end + 1);
      afterColon = false;
      i = end + 1;
      continue;
    }
    if (code === COLON) {
      key = decodeKey(lastString);
      afterColon = true;
    } else if (afterColon && (isDigit(code) || code === MINUS)) {
      let end = i + 1;
      while (end < text.length && isNumberPart(text.charCodeAt(end))) end++;
      if (key !== null && fields.has(key)) {
        parts.push(text.slice(copied, i), '"', text.slice(i, end), '"');
        copied = end;
      }
      afterColon = false;
      i = end;
      continue;
    } else if (!isWhitespace(code)) {
      afterColon = false;
    }
    i++;
  }
  if (copied === 0) return text;
  parts.push(text.slice(copied));
  return parts.join('');
}

/** The key a string token names; escapes (`"co\u0073t"`) are decoded as JSON.parse would. */
function decodeKey(token: string): string | null {
  if (token.length < 2) return null;
  if (!token.includes('\\')) return token.slice(1, -1);
  try {
    return JSON.parse(token) as string;
  } catch {
    return null;
  }
}

/**
 * Replaces the JSON parser of the routes inside `app` with one that keeps decimal fields exact
 * (`fields`: the native names unless a route spells them otherwise); prototype-poisoning
 * protection and the errors for empty or malformed bodies stay Fastify's own.
 */
export function parseDecimalsExactly(app: FastifyInstance, fields: ReadonlySet<string> = DECIMAL_FIELDS) {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    parseJson(request, quoteDecimalNumbers(body as string, fields), done),
  );
}
