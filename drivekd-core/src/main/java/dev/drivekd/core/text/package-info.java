/** Tokenizers: the {@link dev.drivekd.core.text.Tokenizer} contract and its implementations. */
package dev.drivekd.core.text;
