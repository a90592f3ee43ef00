// test_pattern: a grid, colour bars and a centred label, for lining up projectors.
#version 330 core

uniform sampler2D label;     // the projector's name, index and resolution, white on black, row 0 at the top
uniform vec2 resolution;

in vec2 uv;
out vec4 colour;

void main() {
    vec2 pixel = gl_FragCoord.xy;
    float lines = max(step(mod(pixel.x, resolution.x / 16.0), 1.5), step(mod(pixel.y, resolution.y / 9.0), 1.5));
    vec3 c = vec3(lines * 0.6);
    if (uv.y > 0.3 && uv.y < 0.45) {
        int bar = int(uv.x * 8.0);
        c = vec3(float(bar & 4) / 4.0, float(bar & 2) / 2.0, float(bar & 1)) * (bar == 7 ? 0.0 : 1.0);
        if (bar == 0) c = vec3(1.0);
    }
    // The label fits a box above the bars (uv.y 0.52-0.94): at most 60 % of the width and 42 % of the
    // height, whichever binds first, so a wide screen never pushes it past the top or over the bars.
    vec2 size = vec2(textureSize(label, 0));
    vec2 scale = vec2(min(0.6 * resolution.x / size.x, 0.42 * resolution.y / size.y));
    vec2 q = (pixel - resolution * vec2(0.5, 0.73)) / scale / size + 0.5;
    if (q.x > 0.0 && q.x < 1.0 && q.y > 0.0 && q.y < 1.0) c = mix(vec3(0.0), vec3(1.0), texture(label, vec2(q.x, 1.0 - q.y)).r);
    float border = step(min(min(pixel.x, pixel.y), min(resolution.x - pixel.x, resolution.y - pixel.y)), 4.0);
    colour = vec4(max(c, vec3(border, 0.0, border)), 1.0);
}
