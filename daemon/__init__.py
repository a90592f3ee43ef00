"""Twos and Sevens: a GAN trained again and again, its training turned into sound and light."""
