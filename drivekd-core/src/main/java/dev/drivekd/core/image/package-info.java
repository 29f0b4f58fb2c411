/**
 * Image preprocessing as the reference does it (method.md 6.6): decode, convert to RGB, square
 * PIL-style antialiased bicubic resize, ToTensor and ImageNet normalisation.
 */
package dev.drivekd.core.image;
