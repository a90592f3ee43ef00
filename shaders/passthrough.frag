// passthrough: the sample grid as it is; the baseline the benchmarks compare every scene with.
#version 330 core

uniform sampler2D samples;

in vec2 uv;
out vec4 colour;

void main() {
    colour = vec4(vec3(texture(samples, vec2(uv.x, 1.0 - uv.y)).r), 1.0);
}
