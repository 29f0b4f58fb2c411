/**
 * Where drivekd computes: offline engine start-up and the choice of device (GPU when libtorch sees
 * one, else CPU).
 */
package dev.drivekd.core.engine;
