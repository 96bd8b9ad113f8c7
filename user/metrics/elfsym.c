// SPDX-License-Identifier: BSD-2-Clause
/* Function symbols of an ELF file, so a bad BINARY:SYMBOL is refused with the nearest names. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics/family.h"

void fc_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static int push(char ***v, size_t *n, size_t *cap, const char *s)
{
	char **nv;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		nv = realloc(*v, *cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		*v = nv;
	}
	(*v)[*n] = strdup(s);
	return (*v)[(*n)++] ? 0 : -ENOMEM;
}

int fc_elf_func_syms(const char *path, char ***names, size_t *n)
{
	size_t cap = 0, i, cnt;
	Elf_Scn *scn = NULL;
	Elf *elf = NULL;
	GElf_Shdr sh;
	GElf_Sym sym;
	Elf_Data *d;
	int fd, err = 0;
	const char *nm;

	*names = NULL;
	*n = 0;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto out;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !sh.sh_entsize)
			continue;
		cnt = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < cnt; i++) {
			if (!gelf_getsym(d, i, &sym))
				continue;
			/* defined functions only: an undefined import has no code here to probe */
			if ((GELF_ST_TYPE(sym.st_info) != STT_FUNC &&
			     GELF_ST_TYPE(sym.st_info) != STT_GNU_IFUNC) ||
			    sym.st_shndx == SHN_UNDEF || !sym.st_value)
				continue;
			nm = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!nm || !nm[0])
				continue;
			err = push(names, n, &cap, nm);
			if (err)
				goto out;
		}
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	if (err) {
		fc_strv_free(*names, *n);
		*names = NULL;
		*n = 0;
	}
	return err;
}
