/**
 * Driving question-answer data: capabilities, question-type aliases, samples and the JSON dataset
 * reader with file-, record- and field-precise errors (method.md 6.1-6.2).
 */
package dev.drivekd.core.data;
