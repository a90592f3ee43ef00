// samples: the generator's sample grid, glitched by the streams (tear, RGB split, smear, scanlines, noise, feedback).
#version 330 core

uniform sampler2D samples;   // the grid, greyscale, row 0 at the top
uniform sampler2D previous;  // this scene's last frame (feedback)
uniform vec2 resolution;
uniform float time;
uniform float tear;
uniform float rgb_split;
uniform float scanlines;
uniform float smear;
uniform float feedback;
uniform float noise;
uniform float zoom;

in vec2 uv;
out vec4 colour;

float hash(vec2 p) {
    return fract(sin(dot(p, vec2(127.1, 311.7))) * 43758.5453);
}

// The grid as a square filling the screen's height, centred; black outside.
float grid(vec2 p) {
    vec2 q = (p - 0.5) * vec2(resolution.x / resolution.y, 1.0) / zoom + 0.5;
    if (q.x < 0.0 || q.x > 1.0 || q.y < 0.0 || q.y > 1.0) return 0.0;
    return texture(samples, vec2(q.x, 1.0 - q.y)).r;
}

// A smear to the left: the ink runs to the right, fading.
float smeared(vec2 p) {
    float sum = grid(p), weight = 1.0;
    for (int i = 1; i <= 4; i++) {
        float w = smear * (1.0 - float(i) / 5.0);
        sum += grid(p - vec2(float(i) * 0.012 * smear, 0.0)) * w;
        weight += w;
    }
    return sum / weight;
}

void main() {
    vec2 p = uv;
    float tick = floor(time * 8.0);
    // Tear: horizontal bands shifted sideways, then rectangular blocks displaced.
    float band = floor(p.y * 36.0);
    if (hash(vec2(band, tick)) < tear * 0.6) p.x += (hash(vec2(tick, band)) - 0.5) * 0.25 * tear;
    vec2 block = floor(p * vec2(16.0, 9.0));
    if (hash(block + tick * 0.37) < tear * 0.25) p += (vec2(hash(block + 3.1), hash(block + 7.7)) - 0.5) * 0.2 * tear;

    float split = rgb_split * 0.02;
    vec3 c = vec3(smeared(p + vec2(split, 0.0)), smeared(p), smeared(p - vec2(split, 0.0)));
    float lines = 0.5 + 0.5 * sin(gl_FragCoord.y * 3.14159 * 0.5);
    c *= mix(1.0, lines, scanlines);
    c = mix(c, vec3(hash(gl_FragCoord.xy + time * 61.0)), noise * 0.6);
    vec3 trail = texture(previous, uv + vec2(0.0, 0.002)).rgb * feedback;
    colour = vec4(max(c, trail), 1.0);
}
