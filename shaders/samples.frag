// samples: the generator's sample grid, glitched by the streams (tear, RGB split, smear, scanlines, noise, feedback).
#version 330 core

uniform sampler2D samples;   // the grid (red) and its smear (green), row 0 at the top
uniform sampler2D prepass;   // the grid, smeared and RGB-split (drawn below, at the grid's size)
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
uniform ivec2 prepass_margin = ivec2(24, 0);  // texels the pre-pass adds each side (the split reaches 17)

in vec2 uv;
out vec4 colour;

// Every operation here runs for each of two million pixels a frame, and software GL (llvmpipe)
// runs both sides of every branch: what follows the grid's texels is done in the pre-pass.

#ifdef PREPASS

// The grid, once per texel of it: the smear mixed in, red and blue pulled apart (as far as the
// split is in screen widths, 2 % of the width at most). The pre-pass is wider than the grid by
// `prepass_margin` texels each side, room for the red and blue beyond the grid's edges.
float ink(vec2 t) {
    vec2 ink = texture(samples, t).rg;
    return mix(ink.r, ink.g, smear);
}

void main() {
    vec2 t = (gl_FragCoord.xy - vec2(prepass_margin)) / vec2(textureSize(samples, 0));
    float split = rgb_split * 0.02 * (resolution.x / resolution.y) / zoom;
    colour = vec4(ink(t + vec2(split, 0.0)), ink(t), ink(t - vec2(split, 0.0)), 1.0);
}

#else

// Chris Wellons' lowbias32: a few integer operations (sin() and float hashes cost more in software GL).
uint hash(uint x) {
    x ^= x >> 16u;
    x *= 0x7feb352du;
    x ^= x >> 15u;
    x *= 0x846ca68bu;
    return x ^ (x >> 16u);
}

// `count` bits of a hash from `shift` on, as a number 0–1 (through int: x86 has no unsigned conversion).
float bits(uint h, uint shift, uint count) {
    return float(int((h >> shift) & ((1u << count) - 1u))) / float(1 << count);
}

// The digits the classifier sees, as ten columns in the margins beside the grid (0–4 left, 5–9
// right), each as tall as twice its digit's share: a healthy run shows many short ones, a collapsed
// run one or two tall ones that jump as its shapes hop, underfit and random next to nothing.
// x: across the grid (0–1 on it), y: up the screen.
float digit_columns(float x, float y) {
    float margin = 0.5 * (resolution.x / resolution.y) / zoom - 0.5;  // each margin's width, in grid heights
    float slot = (x - (x < 0.0 ? -margin : 1.0 - margin)) * (5.0 / margin);  // 0–5 left, 5–10 right
    float share = digits[clamp(int(slot), 0, 9)];
    bool lit = margin > 0.0 && abs(x - 0.5) > 0.5 && abs(fract(slot) - 0.5) < 0.15 && y < min(1.0, share * 2.0);
    return lit ? 0.55 : 0.0;
}

void main() {
    vec2 p = uv;
    // Tear, eight times a second: horizontal bands shifted sideways, then rectangular blocks displaced.
    uint tick = uint(time * 8.0) << 12u;
    uint band = hash(uint(p.y * 36.0) | tick);
    p.x += bits(band, 0u, 16u) < tear * 0.6 ? (bits(band, 16u, 16u) - 0.5) * 0.25 * tear : 0.0;
    ivec2 cell = ivec2(floor(p * vec2(16.0, 9.0))) + 32;
    uint block = hash(uint(cell.x | cell.y << 6) ^ tick ^ 0x9e3779b9u);
    vec2 shove = vec2(bits(block, 10u, 11u), bits(block, 21u, 11u)) - 0.5;
    p += bits(block, 0u, 10u) < tear * 0.25 ? shove * 0.2 * tear : vec2(0.0);

    // The grid as a square filling the screen's height, centred; black outside (the texture clamps
    // to its black border, no branch needed).
    vec2 q = (p - 0.5) * vec2(resolution.x / resolution.y, 1.0) / zoom + 0.5;
    vec2 size = vec2(textureSize(prepass, 0)), margin = vec2(prepass_margin);
    vec2 t = (vec2(q.x, 1.0 - q.y) * (size - 2.0 * margin) + margin) / size;
    vec3 c = max(texture(prepass, t).rgb, vec3(digit_columns(q.x, p.y)));
    // Scanlines (two bright rows, two dark) and static (Jimenez's interleaved gradient noise, a
    // handful of operations), in one multiply-add.
    float dark = step(0.5, fract(gl_FragCoord.y * 0.25));
    float amount = noise * 0.6;
    float grain = fract(52.9829189 * fract(dot(gl_FragCoord.xy + fract(time) * vec2(613.0, 337.0), vec2(0.06711056, 0.00583715))));
    c = c * ((1.0 - scanlines * 0.75 * dark) * (1.0 - amount)) + grain * amount;
    // Trails fall 0.2 % of the height a frame, in whole pixels: an unfiltered fetch costs less.
    ivec2 above = ivec2(gl_FragCoord.xy) + ivec2(0, max(1, int(resolution.y * 0.002 + 0.5)));
    vec3 trail = texelFetch(previous, min(above, ivec2(resolution) - 1), 0).rgb * feedback;
    colour = vec4(max(c, trail), 1.0);
}

#endif
