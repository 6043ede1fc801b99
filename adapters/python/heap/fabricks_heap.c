/*
 * _fabricks_heap: a CPython extension module for the guest's interpreter
 * (CPython 3.14 compiled to wasm32-wasi by componentize-py), compiled by
 * fabricks with Zig into a shared library that componentize-py links into
 * the component beside libpython.
 *
 * It does one thing: mark objects immortal, as CPython itself marks None,
 * small ints and static types. The build snapshot's objects live as long as
 * an instance anyway; once immortal, taking and dropping references to them
 * (every attribute read, call and global lookup of a request does) no longer
 * writes to their headers, so a request leaves the snapshot's memory pages
 * clean, and a fresh instance has fewer pages to copy back. See
 * fabricks_adapter/preload.py (`immortalize_snapshot`).
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

static PyMethodDef methods[] = {
    {"immortalize", immortalize, METH_O, "Mark each object of a list immortal; return how many were not already."},
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
