/**
 * Live capability teachers: frozen models bound to the capabilities they teach, run once per
 * distinct model per sample.
 */
package dev.drivekd.teachers.panel;
