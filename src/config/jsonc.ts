/**
 * Reads JSON with comments (`//`, `/* *\/`) and trailing commas, as configuration files may
 * contain them. Syntax errors become problems with a line and column.
 *
 * @module
 */

import { parse, type ParseError, printParseErrorCode } from "jsonc-parser";
import { describeValue, type Problem } from "./problem.ts";

/** What each syntax error (by `printParseErrorCode` name) expected. */
const EXPECTED: Readonly<Record<string, string>> = {
  InvalidSymbol: "a JSON value",
  InvalidNumberFormat: "a number",
  PropertyNameExpected: "a quoted property name",
  ValueExpected: "a value",
  ColonExpected: `":"`,
  CommaExpected: `","`,
  CloseBraceExpected: `"}"`,
  CloseBracketExpected: `"]"`,
  EndOfFileExpected: "the end of the document",
  InvalidCommentToken: "a comment",
  UnexpectedEndOfComment: `"*/" closing the comment`,
  UnexpectedEndOfString: "a closing quote",
  UnexpectedEndOfNumber: "more digits",
  InvalidUnicode: "a \\u escape with four hex digits",
  InvalidEscapeCharacter: "a valid escape sequence",
  InvalidCharacter: "a valid character",
};

const MAX_TOKEN_LENGTH = 40;

/** A line and column, both from 1. */
export interface Position {
  line: number;
  column: number;
}

/**
 * The line and column of a character offset.
 *
 * @param text The document.
 * @param offset A character offset into it.
 * @returns Its 1-based line and column.
 */
export function positionAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function foundAt(text: string, error: ParseError): string {
  if (error.offset >= text.length) return "the end of the document";
  const token = text.slice(error.offset, error.offset + Math.max(error.length, 1));
  if (token.startsWith('"') && token.length <= MAX_TOKEN_LENGTH) return token;
  return describeValue(token);
}

/**
 * Parses a JSONC document. On a syntax error the value is `undefined` and one problem (the
 * first error; later ones are usually consequences of it) gives its line and column.
 *
 * @param text The file's content.
 * @param file The file's name, for problems.
 * @returns The value, or the problem.
 */
export function parseJsonc(
  text: string,
  file: string,
): { value: unknown; problems: Problem[] } {
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, {
    allowTrailingComma: true,
    disallowComments: false,
    allowEmptyContent: false,
  });
  const first = errors[0];
  if (first === undefined) return { value, problems: [] };
  const { line, column } = positionAt(text, first.offset);
  const expected = EXPECTED[printParseErrorCode(first.error)] ?? "valid JSON";
  const found = foundAt(text, first);
  return {
    value: undefined,
    problems: [{
      file,
      path: "$",
      expected,
      found,
      message:
        `invalid JSON at line ${line}, column ${column}: expected ${expected}, found ${found}`,
      severity: "error",
    }],
  };
}
