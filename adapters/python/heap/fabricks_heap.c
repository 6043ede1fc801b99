/*
 * _fabricks_heap: a CPython extension module for the guest's interpreter
 * (CPython 3.14 compiled to wasm32-wasi by componentize-py), compiled by
 * fabricks with Zig into a shared library that componentize-py links into
 * the component beside libpython.
 *
 * It leaves the build snapshot so that serving writes to less of it (a
 * fresh instance has fewer pages to copy back after each request), in two
 * ways. `immortalize` marks objects immortal, as CPython itself marks None,
 * small ints and static types: the snapshot's objects live as long as an
 * instance anyway, and once immortal, taking and dropping references to
 * them (every attribute read, call and global lookup of a request does)
 * no longer writes to their headers. `plug_free_chunks` takes up the free
 * chunks left between the snapshot's objects, so that what a request
 * allocates comes from the end of the heap. See
 * fabricks_adapter/preload.py (`freeze_snapshot`).
 *
 * No CPython headers are available for this target, so the few declarations
 * used are written out here. They are CPython 3.14's for 32-bit platforms
 * (Include/object.h, Include/refcount.h, Include/moduleobject.h,
 * Include/methodobject.h). The file name's `.cpython-314-wasm32-wasi.so`
 * suffix is the ABI tag: an interpreter of another version does not load it.
 */

typedef int Py_ssize_t; /* wasm32: 32 bits */

typedef struct _object {
    Py_ssize_t ob_refcnt;
    void *ob_type;
} PyObject;

typedef PyObject *(*PyCFunction)(PyObject *, PyObject *);

typedef struct {
    const char *ml_name;
    PyCFunction ml_meth;
    int ml_flags;
    const char *ml_doc;
} PyMethodDef;

typedef struct {
    PyObject ob_base;
    PyObject *(*m_init)(void);
    Py_ssize_t m_index;
    PyObject *m_copy;
} PyModuleDef_Base;

typedef struct {
    PyModuleDef_Base m_base;
    const char *m_name;
    const char *m_doc;
    Py_ssize_t m_size;
    PyMethodDef *m_methods;
    void *m_slots;
    void *m_traverse;
    void *m_clear;
    void *m_free;
} PyModuleDef;

#define METH_NOARGS 0x0004
#define METH_O 0x0008
#define PYTHON_API_VERSION 1013

/* Include/refcount.h, SIZEOF_VOID_P <= 4: an object whose count is at least
   the minimum is immortal (Py_INCREF and Py_DECREF leave it alone); new
   immortals start at the initial value, as _Py_SetImmortal does. */
#define IMMORTAL_INITIAL_REFCNT ((Py_ssize_t)(5L << 28))
#define IMMORTAL_MINIMUM_REFCNT ((Py_ssize_t)(1L << 30))

extern PyObject *PyModule_Create2(PyModuleDef *, int);
extern Py_ssize_t PyList_Size(PyObject *);
extern PyObject *PyList_GetItem(PyObject *, Py_ssize_t);
extern PyObject *PyLong_FromSsize_t(Py_ssize_t);
extern PyObject *Py_BuildValue(const char *, ...);
extern void *PyMem_RawMalloc(unsigned long);
extern void PyMem_RawFree(void *);

/* immortalize(objects: list) -> int: marks each object of the list immortal;
   returns how many were not already. */
static PyObject *immortalize(PyObject *module, PyObject *objects) {
    (void)module;
    Py_ssize_t count = PyList_Size(objects);
    if (count < 0) {
        return 0; /* not a list: PyList_Size set a SystemError */
    }
    Py_ssize_t marked = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *object = PyList_GetItem(objects, i);
        if (object->ob_refcnt < IMMORTAL_MINIMUM_REFCNT) {
            object->ob_refcnt = IMMORTAL_INITIAL_REFCNT;
            marked++;
        }
    }
    return PyLong_FromSsize_t(marked);
}

/* The size of the dlmalloc chunk that `pointer` (from PyMem_RawMalloc) is
   in: the word before the pointer, without its 3 flag bits (see from_top). */
static unsigned long chunk_size_of(void *pointer) {
    return ((unsigned long *)pointer)[-1] & ~7UL;
}

/* Whether `pointer`, just returned by PyMem_RawMalloc(size), was carved from
   the top chunk: 1 if so, 0 if it came from a free chunk, -1 if the heap is
   not laid out as this expects. CPython's raw allocator is wasi-libc's
   dlmalloc, 32-bit: a chunk starts 8 bytes before the pointer it hands out,
   its size in the word before the pointer (the low 3 bits are flags). The
   top chunk, from which dlmalloc carves what no free chunk can hold, is the
   last one: it ends a few words (TOP_FOOT_SIZE) before the end of the heap,
   which is the end of linear memory. */
static int from_top(void *pointer, unsigned long size) {
    unsigned long chunk = (unsigned long)pointer - 8;
    unsigned long chunk_size = chunk_size_of(pointer);
    if (chunk_size < size || chunk_size > size + 4096) {
        return -1; /* not dlmalloc's layout */
    }
    unsigned long next = chunk + chunk_size;
    unsigned long next_size = chunk_size_of((void *)(next + 8));
    unsigned long heap_end = (unsigned long)__builtin_wasm_memory_size(0) * 65536;
    return next + next_size <= heap_end && heap_end - (next + next_size) <= 64;
}

/* plug_free_chunks() -> (chunks, bytes, status): allocates, and never frees,
   every free chunk of the heap below the top chunk, so that what the
   interpreter allocates afterwards comes from the top, in a few contiguous
   pages, instead of from holes spread over the whole heap. Sizes from 64 KiB
   down to 8 bytes (dlmalloc's smallest chunk): a hole larger than the size
   asked for is split, and its rest plugged at a smaller size. status is 0
   when done, -1 when the heap's layout is not dlmalloc's as expected (it
   stops there, having freed what it could not place), -2 when it stopped
   after 256 MiB. */
static PyObject *plug_free_chunks(PyObject *module, PyObject *unused) {
    (void)module;
    (void)unused;
    Py_ssize_t chunks = 0, bytes = 0;
    for (unsigned long size = 65536; size >= 8; size /= 2) {
        for (;;) {
            void *pointer = PyMem_RawMalloc(size);
            if (!pointer) {
                break;
            }
            int top = from_top(pointer, size);
            if (top != 0) {
                PyMem_RawFree(pointer);
                if (top < 0) {
                    return Py_BuildValue("(iii)", chunks, bytes, -1);
                }
                break;
            }
            chunks++;
            bytes += (Py_ssize_t)chunk_size_of(pointer);
            if (bytes > (256 << 20)) {
                return Py_BuildValue("(iii)", chunks, bytes, -2);
            }
        }
    }
    return Py_BuildValue("(iii)", chunks, bytes, 0);
}

static PyMethodDef methods[] = {
    {"immortalize", immortalize, METH_O, "Mark each object of a list immortal; return how many were not already."},
    {"plug_free_chunks", plug_free_chunks, METH_NOARGS, "Allocate every free chunk below the heap's top for good."},
    {0, 0, 0, 0},
};

static PyModuleDef module = {
    {{1, 0}, 0, 0, 0},
    "_fabricks_heap",
    "Marks the build snapshot's objects immortal (fabricks).",
    -1,
    methods,
    0,
    0,
    0,
    0,
};

__attribute__((visibility("default"))) PyObject *PyInit__fabricks_heap(void) {
    return PyModule_Create2(&module, PYTHON_API_VERSION);
}
