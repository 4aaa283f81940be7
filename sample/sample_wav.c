/** @file sample_wav.c @brief Small, valid RIFF/WAVE PCM files with a deterministic tone. */
#include "config.h"
#include "dsr/sample.h"

#include <string.h>

static void le16(unsigned char *p, uint16_t v)
{
  p[0] = (unsigned char)(v & 0xff);
  p[1] = (unsigned char)(v >> 8);
}

static void le32(unsigned char *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)((v >> (8 * i)) & 0xff);
}

size_t dsr_sample_wav_size(uint32_t samples)
{
  return 44 + (size_t)samples * 2;
}

void dsr_sample_wav_render(unsigned char *out, uint32_t samples, uint32_t rate, uint32_t freq)
{
  uint32_t data = samples * 2;
  memcpy(out, "RIFF", 4);
  le32(out + 4, 36 + data);
  memcpy(out + 8, "WAVE", 4);
  memcpy(out + 12, "fmt ", 4);
  le32(out + 16, 16);        /* PCM fmt chunk size */
  le16(out + 20, 1);         /* PCM */
  le16(out + 22, 1);         /* mono */
  le32(out + 24, rate);
  le32(out + 28, rate * 2);  /* byte rate */
  le16(out + 32, 2);         /* block align */
  le16(out + 34, 16);        /* bits per sample */
  memcpy(out + 36, "data", 4);
  le32(out + 40, data);
  /* Triangle wave: phase in 1/65536 of a period, amplitude about -12 dBFS,
     with a linear fade over the first and last 5 ms to avoid clicks. */
  uint32_t step = (uint32_t)(((uint64_t)freq << 16) / (rate ? rate : 1));
  uint32_t fade = rate / 200 ? rate / 200 : 1;
  uint32_t phase = 0;
  for (uint32_t i = 0; i < samples; i++) {
    int32_t ph = (int32_t)(phase & 0xffff);
    int32_t tri = ph < 32768 ? ph * 2 - 32768 : 98304 - ph * 2; /* -32768..32768 */
    int32_t v = tri / 4;
    uint32_t edge = i < samples - 1 - i ? i : samples - 1 - i;
    if (edge < fade)
      v = (int32_t)((int64_t)v * (int64_t)edge / (int64_t)fade);
    le16(out + 44 + 2 * (size_t)i, (uint16_t)(int16_t)v);
    phase += step;
  }
}
