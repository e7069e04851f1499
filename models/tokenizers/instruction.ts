/**
 * Instruction (and FAST-BPE) tokenizers over an HF `tokenizer.json`, through the maintained
 * @huggingface/tokenizers implementation (no hand-rolled BPE). `InstructionTokenizer` is pure
 * (built from parsed JSON); `loadHfTokenizer` is the one function here that reads a file.
 */
import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';

export class InstructionTokenizer {
  private readonly tok: Tokenizer;
  constructor(tokenizerJson: object, config: object = {}) {
    this.tok = new Tokenizer(tokenizerJson, config);
  }
  /** Token ids of `text`, without special tokens added by a post-processor. */
  encode(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }
  decode(ids: readonly number[], skipSpecial = true): string {
    if (ids.length === 0) return ''; // the library rejects an empty list
    // no clean-up of "tokenization spaces": it would eat FAST characters (chr(32) before ',' or '.')
    return this.tok.decode([...ids], { skip_special_tokens: skipSpecial, clean_up_tokenization_spaces: false });
  }
  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }
}

/** Reads and parses a tokenizer.json; throws with the reason when it does not load. */
export function loadHfTokenizer(path: string): InstructionTokenizer {
  const json = JSON.parse(readFileSync(path, 'utf8')) as object;
  const t = new InstructionTokenizer(json);
  t.encode('probe');
  return t;
}
