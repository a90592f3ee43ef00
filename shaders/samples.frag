// samples: the generator's sample grid, glitched by the streams (tear, RGB split, smear, scanlines, noise, feedback).
#version 330 core

uniform sampler2D samples;   // the grid (red) and its smear (green), row 0 at the top
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
uniform float digits[10];    // each digit's share 0–1 of the latest class histogram

in vec2 uv;
out vec4 colour;

// Dave Hoskins' sine-free hash: sin() is slow in software GL, and this is called per pixel.
float hash(vec2 p) {
    vec3 p3 = fract(vec3(p.xyx) * 0.1031);
    p3 += dot(p3, p3.yzx + 33.33);
    return fract((p3.x + p3.y) * p3.z);
}

// The grid as a square filling the screen's height, centred; black outside (the texture clamps
// to its black border, no branch needed). Its green channel is the grid with the ink run to the
// right (computed once per grid): smear mixes it in.
float grid(vec2 p) {
    vec2 q = (p - 0.5) * vec2(resolution.x / resolution.y, 1.0) / zoom + 0.5;
    vec2 ink = texture(samples, vec2(q.x, 1.0 - q.y)).rg;
    return mix(ink.r, ink.g, smear);
}

// The digits the classifier sees, as ten columns in the margins beside the grid (0–4 left, 5–9
// right), each as tall as twice its digit's share: a healthy run shows many short ones, a collapsed
// run one or two tall ones that jump as its shapes hop, underfit and random next to nothing.
float digit_columns(vec2 p) {
    float aspect = resolution.x / resolution.y;
    float margin = 0.5 * aspect / zoom - 0.5;  // each margin's width, in grid heights
    float x = (p.x - 0.5) * aspect / zoom + 0.5;
    if (margin <= 0.0 || (x >= 0.0 && x <= 1.0)) return 0.0;
    float slot = x < 0.0 ? (x + margin) / margin * 5.0 : (x - 1.0) / margin * 5.0;
    int digit = clamp(int(slot) + (x < 0.0 ? 0 : 5), 0, 9);
    float bar = step(0.35, fract(slot)) * step(fract(slot), 0.65);
    return bar * step(p.y, min(1.0, digits[digit] * 2.0)) * 0.55;
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
    vec3 c = vec3(grid(p + vec2(split, 0.0)), grid(p), grid(p - vec2(split, 0.0)));
    c = max(c, vec3(digit_columns(p)));
    float lines = mod(gl_FragCoord.y, 4.0) < 2.0 ? 1.0 : 0.25;  // two bright rows, two dark
    c *= mix(1.0, lines, scanlines);
    if (noise > 0.0) c = mix(c, vec3(hash(gl_FragCoord.xy + fract(time) * 613.0)), noise * 0.6);
    vec3 trail = texture(previous, uv + vec2(0.0, 0.002)).rgb * feedback;
    colour = vec4(max(c, trail), 1.0);
}
