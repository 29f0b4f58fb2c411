/**
 * TorchScript import: {@link dev.drivekd.teachers.torchscript.TorchScriptVlm} runs a
 * vision-language model exported from Python (a {@code .pt} plus a JSON descriptor) as a frozen
 * teacher or a trainable student, under drivekd's input/output contract (docs/torchscript.md).
 */
package dev.drivekd.teachers.torchscript;
